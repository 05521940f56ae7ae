// Small text helpers for the renderers: word wrap, a sparkline, relative times.

/** Wraps at spaces to at most `width` characters a line (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** "3m", "2h", "5d": how long ago (or, negative, how long until) a time is, like kubectl's AGE. */
export function age(from: string | undefined, now: Date): string {
  const then = Date.parse(from ?? '');
  if (Number.isNaN(then)) return '<none>';
  const seconds = Math.round(Math.abs(now.getTime() - then) / 1000);
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
