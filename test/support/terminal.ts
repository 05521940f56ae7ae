// A real terminal for end-to-end tests of interactive output: a program runs in a tmux session on a
// private tmux server (its own socket, so nothing touches a user's tmux), the test reads the screen
// with capture-pane (with -e: the escape sequences too) and waits for the program to exit.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { shellJoin } from '../../operator/diagnosis/index.ts';
import { sleep } from './cluster.ts';

export interface TerminalRun {
  /** The screen (and scrollback) as text, with escapes when `escapes`. */
  screen(escapes?: boolean): string;
  /** Waits until the program has exited; returns its exit code and the final screen. */
  exited(timeoutMs: number): Promise<{ code: number; screen: string; escaped: string }>;
  /** Every distinct screen seen while waiting (for a spinner frame). */
  readonly frames: string[];
  kill(): void;
}

const EXIT_MARK = '__NETCHECK_EXIT__=';

export class Terminal {
  private readonly socket = `netcheck-e2e-${process.pid}-${randomBytes(2).toString('hex')}`;
  private sessions = 0;

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Starts argv in a width x height terminal with env; the session lingers after exit so the screen can be read. */
  run(argv: string[], env: Record<string, string>, size = { width: 170, height: 60 }): TerminalRun {
    const session = `s${++this.sessions}`;
    const script = `${shellJoin(argv)}; echo "${EXIT_MARK}$?"; sleep 600`;
    // The environment is set by env -i inside the pane: tmux's own -e does not reach a command's
    // PATH reliably (the server's environment wins), and the test must see exactly this one.
    const command = shellJoin(['env', '-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), 'bash', '--norc', '--noprofile', '-c', script]);
    this.tmux(['new-session', '-d', '-s', session, '-x', String(size.width), '-y', String(size.height), command]);
    const frames: string[] = [];
    const screen = (escapes = false) => this.tmux(['capture-pane', '-p', '-J', '-S', '-200', ...(escapes ? ['-e'] : []), '-t', session]);
    return {
      frames,
      screen,
      exited: async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const now = screen();
          if (frames[frames.length - 1] !== now) frames.push(now);
          const exit = new RegExp(`${EXIT_MARK}(\\d+)`).exec(now);
          if (exit) return { code: Number(exit[1]), screen: now.slice(0, now.indexOf(EXIT_MARK)), escaped: screen(true) };
          await sleep(100);
        }
        throw new Error(`the program in tmux did not exit within ${timeoutMs} ms:\n${screen()}`);
      },
      kill: () => { try { this.tmux(['kill-session', '-t', session]); } catch { /* gone */ } },
    };
  }

  close(): void {
    try { this.tmux(['kill-server']); } catch { /* no server */ }
  }
}
