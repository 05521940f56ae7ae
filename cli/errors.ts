// Exit codes and the errors that carry them. kubectl-style: 0 when the checked path is Healthy, 1
// when it is Unhealthy (a failing test in a pipeline), 2 for everything that is not an answer about
// the network: a bad argument (its message names the flag), an API error, a check that errored or
// stalled, a run that never finished.

export const ExitCode = {
  Healthy: 0,
  Unhealthy: 1,
  Error: 2,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad input on the command line. The message starts with the flag it is about. */
export class UsageError extends Error {
  readonly flag: string;
  /** The message without the flag (commander names the flag itself in its own errors). */
  readonly detail: string;
  constructor(flag: string, detail: string) {
    super(`${flag}: ${detail}`);
    this.name = 'UsageError';
    this.flag = flag;
    this.detail = detail;
  }
}

/** Anything else that stops a command: API errors, time-outs, missing objects. */
export class CommandError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.Error) {
    super(message);
    this.name = 'CommandError';
    this.exitCode = exitCode;
  }
}

/** The HTTP status of a client-node error, when it has one (the operator's own helper). */
export { httpStatus as httpStatusOf } from '../operator/controller/kube.ts';

/** The API server's own message (a Status object's message), else the error text. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  const text = typeof body === 'string' ? body : body ? JSON.stringify(body) : '';
  try {
    const status = JSON.parse(text) as { message?: string };
    if (status.message) return status.message;
  } catch { /* not JSON */ }
  // fetch failed: the reason (ECONNREFUSED 127.0.0.1:6443, a certificate error...) is in the cause.
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message;
  return `${err instanceof Error ? err.message : String(err)}${detail ? ` (${detail}${cause?.message && cause.code ? `: ${cause.message}` : ''})` : ''}`;
}
