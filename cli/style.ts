// Terminal styling for the plugin: colour only on a terminal, never when piped, and never when the
// user said NO_COLOR or --no-color. picocolors does the escapes; this file decides once, up front,
// whether they are wanted, so that every renderer can stay pure (text in, text out) and the snapshot
// tests see exactly what a pipe would.
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface StyleEnv {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  noColorFlag: boolean;
}

/** Colour is wanted on a TTY, unless NO_COLOR (any value, https://no-color.org), --no-color or TERM=dumb. */
export function colorWanted({ isTTY, env, noColorFlag }: StyleEnv): boolean {
  if (noColorFlag || env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

export interface Style {
  readonly c: Colors;
  readonly color: boolean;
  /** Spinners and redrawn lines: only on an interactive terminal. */
  readonly live: boolean;
}

export function makeStyle(color: boolean, live = color): Style {
  return { c: picocolors.createColors(color), color, live };
}

/** No colour, no live redraws: what a pipe and the tests get. */
export const PLAIN: Style = makeStyle(false, false);

export type Mark = 'ok' | 'failed' | 'unknown' | 'warning';

export const SYMBOL: Record<Mark, string> = { ok: '✓', failed: '✗', unknown: '?', warning: '!' };

export function mark(style: Style, state: Mark): string {
  const { c } = style;
  const symbol = SYMBOL[state];
  if (state === 'ok') return c.green(symbol);
  if (state === 'failed') return c.red(c.bold(symbol));
  if (state === 'warning') return c.yellow(symbol);
  return c.dim(symbol);
}

/** A condition status as a mark: True works, False fails, Unknown was not evaluated. */
export function markOfStatus(status: string | undefined): Mark {
  return status === 'True' ? 'ok' : status === 'False' ? 'failed' : 'unknown';
}
