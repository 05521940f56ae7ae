// Packet captures of a run: what the capture points saw (a pure plan from the pcaps and the verdict),
// the Secrets that keep them, and which older Secrets go when their history entries go.
//
// The operator never reads Secrets: it creates a run's capture Secrets, remembers their names in the
// run's history entry, and deletes them by name when the entry leaves the history. That keeps its
// RBAC on Secrets to create and delete, and deleting the check removes them through ownerReferences.
import type { V1Secret } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.ts';
import type { CapturePointStatus, CaptureStatus, HistoryEntry, NetworkCheck } from '../api/types.generated.ts';
import { analyzeCapture, attributeHop, summarizeCapture, type CaptureAnalysis, type CapturePoint } from '../capture/analyze.ts';
import { DEFAULT_SNAP_LENGTH } from '../capture/filter.ts';
import { buildCaptureSecret } from '../capture/secret.ts';
import type { CollectedCapture } from '../probe/stage.ts';
import { clip, sentence, upperFirst } from '../util/text.ts';

export type { CollectedCapture };

/** Runs, newest first, whose pcaps are kept (within the history): captures are large, history entries small. */
export const MAX_CAPTURED_RUNS_KEPT = 5;
const MAX_MESSAGE = 512;

export interface CapturePlan {
  status: CaptureStatus;
  /** Secrets to create (kept captures only). */
  secrets: V1Secret[];
}

export interface CapturePlanInput {
  check: NetworkCheck;
  spec: ResolvedSpec;
  runId: string;
  /** The run's result: OnFailure keeps the pcaps of runs that are not Healthy. */
  result: string;
  captures: CollectedCapture[];
  now: Date;
  /** False when there is nowhere to store Secrets: the analysis still goes into status. */
  canStore?: boolean;
}

const POINT_NAME: Record<CapturePoint, CapturePointStatus['point']> = { source: 'Source', destination: 'Destination' };

/** Pure: analyses every pcap, decides whether to keep them, and builds the status and Secrets. */
export function planCapture(input: CapturePlanInput): CapturePlan {
  const { check, spec, runId, captures } = input;
  const keep = input.canStore !== false && (spec.capture?.when === 'Always' || (spec.capture?.when === 'OnFailure' && input.result !== 'Healthy'));
  const points: CapturePointStatus[] = [];
  const secrets: V1Secret[] = [];
  const analyses: CaptureAnalysis[] = [];
  for (const capture of captures) {
    const point: CapturePointStatus = { point: POINT_NAME[capture.point], pod: capture.pod };
    points.push(point);
    if (!capture.pcap) {
      point.reason = 'CaptureFailed';
      point.message = clip(`No capture from ${capture.pod}: ${capture.error ?? 'the probe printed none'}.`, MAX_MESSAGE, '...');
      continue;
    }
    let analysis: CaptureAnalysis;
    try {
      analysis = analyzeCapture(capture.pcap, { point: capture.point, ...(capture.target ? { target: capture.target } : {}) });
    } catch (err) {
      point.reason = 'CaptureFailed';
      point.message = clip(`The capture from ${capture.pod} is not a pcap file: ${(err as Error).message}.`, MAX_MESSAGE, '...');
      continue;
    }
    analyses.push(analysis);
    const summary = summarizeCapture(analysis);
    Object.assign(point, {
      packets: summary.packets,
      durationSeconds: Math.round(summary.durationSeconds),
      reason: summary.reason,
      message: clip(capitalSentence(summary.message), MAX_MESSAGE, '...'),
      ...(summary.tcp ? { tcp: summary.tcp } : {}),
      ...(summary.icmp ? { icmp: summary.icmp } : {}),
      ...(summary.dns ? { dns: summary.dns } : {}),
    });
    if (keep) {
      const stored = buildCaptureSecret({
        check: { name: check.metadata!.name!, namespace: check.metadata!.namespace!, uid: check.metadata!.uid! },
        runId, point: capture.point, pcap: capture.pcap, snapLength: spec.capture?.snapLength ?? DEFAULT_SNAP_LENGTH, capturedAt: input.now,
      });
      // Two source pods (spread: EveryNode) would share a name: keep the first, report the rest.
      if (secrets.some((s) => s.metadata?.name === stored.name)) continue;
      secrets.push(stored.secret);
      Object.assign(point, { secret: stored.name, bytes: stored.storedBytes, extract: stored.extractCommand, ...(stored.truncated ? { truncated: true } : {}) });
    }
  }
  const state: CaptureStatus['state'] = analyses.length === 0 ? 'Failed' : keep ? 'Kept' : 'Discarded';
  return { status: { runId, state, conclusion: clip(conclude(analyses, points), 1024, '...'), points }, secrets };
}

/** One capitalised sentence. */
function capitalSentence(text: string): string {
  return sentence(upperFirst(text.trim()));
}

/** Where the packets stopped: with both ends captured, the hop; with one, that point's verdict. */
function conclude(analyses: CaptureAnalysis[], points: CapturePointStatus[]): string {
  const source = analyses.find((a) => a.point === 'source');
  const destinations = analyses.filter((a) => a.point === 'destination');
  if (source && destinations.length > 0) {
    // The destination that saw this exchange at all, else the first one.
    const destination = destinations.find((d) => d.exchange.requests > 0) ?? destinations[0]!;
    const hop = attributeHop(source, destination);
    return capitalSentence(`${hop.reason}: ${hop.message}`);
  }
  if (source) return capitalSentence(`At the source: ${source.verdict.message}`);
  if (destinations[0]) return capitalSentence(`At the destination: ${destinations[0].verdict.message}`);
  const failed = points.find((p) => p.message)?.message;
  return failed ?? 'No capture point produced a capture.';
}

/**
 * Pure: after a new history entry was added, which capture Secrets to delete, and the history
 * without them: every Secret of an entry that left the history, and those of captured runs beyond
 * the newest MAX_CAPTURED_RUNS_KEPT.
 */
export function pruneCaptureSecrets(previous: readonly HistoryEntry[], next: readonly HistoryEntry[]): { history: HistoryEntry[]; deletions: string[] } {
  const kept = new Set<string>();
  let capturedRuns = 0;
  const history = next.map((entry) => {
    if (!entry.captureSecrets?.length) return entry;
    capturedRuns++;
    if (capturedRuns > MAX_CAPTURED_RUNS_KEPT) {
      const { captureSecrets: _dropped, ...rest } = entry;
      return rest;
    }
    for (const name of entry.captureSecrets) kept.add(name);
    return entry;
  });
  const all = [...previous, ...next].flatMap((entry) => entry.captureSecrets ?? []);
  const deletions = [...new Set(all)].filter((name) => !kept.has(name)).sort();
  return { history, deletions };
}

/** Creates and deletes capture Secrets. */
export interface CaptureStore {
  /** Creates the Secret; one that already exists (a retried run completion) is success. */
  create(secret: V1Secret): Promise<void>;
  /** Deletes the Secret; a missing one is success. */
  delete(namespace: string, name: string): Promise<void>;
}
