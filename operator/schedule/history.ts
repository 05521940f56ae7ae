// status.history and result-transition events. Pure helpers: the caller writes status and Events.
//
// History order: newest first (the CRD documents status.history as "newest first"), so
// `kubectl get -o jsonpath='{.status.history[0]}'` is the latest run.

export const DEFAULT_HISTORY_LIMIT = 10;
// The CRD caps status.history at maxItems 100 and spec.historyLimit at 100.
export const MAX_HISTORY_LIMIT = 100;
// events.k8s.io/v1 limits `note` to 1 kB; core/v1 messages are kept to the same size.
export const MAX_EVENT_MESSAGE_LENGTH = 1024;

export type RunResult = 'Healthy' | 'Unhealthy' | 'Error';

export interface HistoryEntry {
  /** When the run started (RFC 3339). Identifies the run: appending the same time again replaces it. */
  time: string;
  result: RunResult;
  failedLayer?: string;
  reason?: string;
  durationMs?: number;
  /** The Secrets holding the run's packet captures (pruned with the entry). */
  captureSecrets?: string[];
}

function withoutUndefined(entry: HistoryEntry): HistoryEntry {
  const clean: HistoryEntry = { time: entry.time, result: entry.result };
  if (entry.failedLayer !== undefined) clean.failedLayer = entry.failedLayer;
  if (entry.reason !== undefined) clean.reason = entry.reason;
  if (entry.durationMs !== undefined) clean.durationMs = entry.durationMs;
  if (entry.captureSecrets !== undefined) clean.captureSecrets = entry.captureSecrets;
  return clean;
}

/**
 * Returns a new history with `entry` first, at most `historyLimit` long (default 10, clamped to 0-100).
 * If the newest entry has the same `time`, it is replaced: a status update retried after a conflict
 * must not record the same run twice.
 */
export function appendHistory(
  history: readonly HistoryEntry[] | undefined,
  entry: HistoryEntry,
  historyLimit: number = DEFAULT_HISTORY_LIMIT,
): HistoryEntry[] {
  const limit = Math.min(MAX_HISTORY_LIMIT, Math.max(0, Math.floor(Number.isFinite(historyLimit) ? historyLimit : DEFAULT_HISTORY_LIMIT)));
  const older = (history ?? []).filter((existing, index) => !(index === 0 && existing.time === entry.time));
  return [withoutUndefined(entry), ...older].slice(0, limit);
}

export type EventType = 'Normal' | 'Warning';
export type TransitionReason = 'CheckHealthy' | 'CheckUnhealthy' | 'CheckError';

export interface CheckEvent {
  type: EventType;
  reason: TransitionReason;
  message: string;
}

export interface RunOutcome {
  result: RunResult;
  failedLayer?: string;
  reason?: string;
  /** status.summary: one sentence with the evidence. */
  summary?: string;
}

function describeFailure(outcome: RunOutcome): string {
  const cause = [outcome.failedLayer, outcome.reason].filter((part) => part !== undefined && part !== '').join('/');
  return cause === '' ? outcome.result : `${outcome.result} (${cause})`;
}

function truncate(message: string): string {
  return message.length <= MAX_EVENT_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_EVENT_MESSAGE_LENGTH - 3)}...`;
}

/**
 * The Event to record when a run's outcome differs from the previous one, or undefined when nothing
 * changed. A change is: the first result ever, Healthy <-> Unhealthy/Error, Unhealthy <-> Error, or an
 * unhealthy check failing at a different layer or for a different reason. `previous` is the previous
 * run (e.g. status.history[0] before appending).
 */
export function detectTransition(previous: RunOutcome | undefined, current: RunOutcome): CheckEvent | undefined {
  const was = previous === undefined ? 'first result' : `was ${describeFailure(previous)}`;
  if (current.result === 'Healthy') {
    if (previous?.result === 'Healthy') return undefined;
    return { type: 'Normal', reason: 'CheckHealthy', message: truncate(`NetworkCheck is Healthy (${was})`) };
  }
  if (
    previous !== undefined &&
    previous.result === current.result &&
    (previous.failedLayer ?? '') === (current.failedLayer ?? '') &&
    (previous.reason ?? '') === (current.reason ?? '')
  ) {
    return undefined;
  }
  const summary = current.summary ? `: ${current.summary}` : '';
  return {
    type: 'Warning',
    reason: current.result === 'Error' ? 'CheckError' : 'CheckUnhealthy',
    message: truncate(`NetworkCheck is ${describeFailure(current)}${summary} (${was})`),
  };
}
