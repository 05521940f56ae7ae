// What every hop builder of the path reads: the analysis, the root cause, the layer findings as the
// verdict shows them, and how a measured outcome reads as a hop result.
import type { PathHop } from '../../api/types.generated.ts';
import type { ConnectStatus, HttpResult } from '../../probe/result.ts';
import { hostPort } from '../../util/text.ts';
import type { Analysis, LayerFinding, ServiceAttempt, Transport } from '../analysis.ts';
import type { RootCause } from '../causes/chain.ts';
import type { LayerName } from '../layers/index.ts';
import { LayerReason } from '../reasons.ts';
import { describeConnect, describeHttp } from '../text.ts';

export type HopResult = PathHop['result'];

export interface PathContext {
  readonly a: Analysis;
  readonly rootCause: RootCause;
  /** The layer's finding as the verdict writes it (the explaining layer rewritten as the cause). */
  readonly finding: (layer: LayerName) => LayerFinding | undefined;
  /**
   * False when the probe could not test the path: every layer is Unknown, so every hop is; the
   * hops keep only what the API says (names, addresses, nodes).
   */
  readonly measured: boolean;
}

/** A layer condition's status as a hop result. */
export function resultOfStatus(status: LayerFinding['status'] | undefined): HopResult {
  return status === 'True' ? 'Ok' : status === 'False' ? 'Failed' : 'Unknown';
}

/** A connection's outcome as a hop result: a UDP port without a reply is open or silently filtered. */
export function resultOfConnect(status: ConnectStatus): HopResult {
  return status === 'ok' ? 'Ok' : status === 'noReply' ? 'Warning' : 'Failed';
}

/** The layer evaluated (or tried to): not NotApplicable to this check. */
export function applies(finding: LayerFinding | undefined): finding is LayerFinding {
  return finding !== undefined && finding.reason !== LayerReason.NotApplicable;
}

/** The hop's result, detail and latency from an attempt on the destination address (connect, then HTTP). */
export function attemptOutcome(attempt: ServiceAttempt, transport: Transport): Pick<PathHop, 'address' | 'result' | 'detail' | 'latencyMs'> | undefined {
  const connect = attempt.connect;
  if (!connect) return undefined;
  const http: HttpResult | undefined = connect.status === 'ok' ? attempt.http : undefined;
  const connected = describeConnect(connect.status, connect.ms, connect.err, transport);
  const result = http && http.status !== 'ok' ? 'Failed' : resultOfConnect(connect.status);
  return {
    address: hostPort(connect.ip, connect.port),
    result,
    detail: http ? `${connected}, ${describeHttp(http)}` : connected,
    ...(connect.status === 'ok' ? { latencyMs: connect.ms } : {}),
  };
}

/** The hop without the keys whose value is undefined: status holds no nulls. */
export function defined(hop: PathHop): PathHop {
  return Object.fromEntries(Object.entries(hop).filter(([, value]) => value !== undefined)) as unknown as PathHop;
}
