// Layer 3, the Service path: does ClusterIP:port connect (and answer HTTP)? Headless and ExternalName
// Services have no service proxy in the path; pod and host destinations no Service at all.
import type { ConnectStatus } from '../../probe/result.ts';
import type { AnalysisBase, Context, ServiceAttempt } from '../analysis.ts';
import { connectFailed } from '../context.ts';
import { Cause, HealthyReason, LayerReason } from '../reasons.ts';
import { attemptText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly service: ServiceAnalysis;
  }
}

export interface ServiceAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly clusterIP?: string;
  /** Attempts on the destination address: the ClusterIP, or a host's address (hosts and ExternalName aliases). */
  readonly attempts: ServiceAttempt[];
  /** Attempts whose TCP/UDP connect failed (UDP noReply is not a failure by itself). */
  readonly connectFailed: ServiceAttempt[];
  /** Connected, but the HTTP exchange failed. */
  readonly httpFailed: ServiceAttempt[];
}

const NAME = 'Service';

export const serviceLayer = defineLayer({
  name: NAME,
  condition: 'ServiceReachable',
  key: 'service',
  analyse: analyseService,
  finding: serviceFinding,
});

function analyseService(context: Context): ServiceAnalysis {
  const { kind, attempts } = context;
  const { service, serviceKind } = context.dest;
  const failed = attempts.filter((attempt) => attempt.skipped || (attempt.connect && connectFailed(attempt.connect.status)));
  const httpFailed = attempts.filter((attempt) => attempt.connect?.status === 'ok' && attempt.http && attempt.http.status !== 'ok');
  const all = { attempts, connectFailed: failed, httpFailed };
  if (kind !== 'service')
    return { applicable: false, notApplicable: `the destination is ${kind === 'pod' ? 'a pod' : 'a host'}, no Service is in the path`, ...all };
  if (serviceKind === 'Headless') {
    const why = 'the Service is headless (clusterIP None): clients connect to the pod IPs DNS returns, no service proxy is involved';
    return { applicable: false, notApplicable: why, ...all };
  }
  if (serviceKind === 'ExternalName') {
    const why = `the Service is an ExternalName alias for ${service?.spec?.externalName}: DNS returns a CNAME, no service proxy is involved`;
    return { applicable: false, notApplicable: why, ...all };
  }
  return { applicable: true, clusterIP: service?.spec?.clusterIP, ...all };
}

/** The layer reason of a failed connection: the symptom, when the explanation lies on another layer. */
export function symptomReason(status: ConnectStatus): string {
  switch (status) {
    case 'refused':
      return LayerReason.ConnectionRefused;
    case 'timeout':
      return LayerReason.ConnectionTimedOut;
    case 'unreachable':
      return LayerReason.HostUnreachable;
    default:
      return LayerReason.ConnectFailed;
  }
}

function serviceFinding(a: AnalysisBase) {
  const { service } = a;
  if (!service.applicable) return finding(NAME, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${service.notApplicable}.`);
  if (service.attempts.length === 0) {
    if (a.protocol === 'DNS') return finding(NAME, 'Unknown', LayerReason.NotApplicable, 'Not evaluated: a DNS check only resolves the name.');
    if (a.protocol === 'ICMP') {
      return finding(
        NAME,
        'Unknown',
        LayerReason.NotApplicable,
        'Not evaluated: a ping to a ClusterIP tests nothing about the Service (only IPVS answers it).',
      );
    }
    return finding(NAME, 'Unknown', LayerReason.NotProbed, 'Not evaluated: the probe did not connect to the ClusterIP.');
  }
  const failed = service.connectFailed[0] ?? service.httpFailed[0];
  if (failed) return finding(NAME, 'False', failedAttemptReason(failed), `ClusterIP ${service.clusterIP} ${attemptText(failed, a.transport)}.`);
  const udpUnconfirmed = service.attempts.find((attempt) => attempt.connect?.status === 'noReply');
  const text = service.attempts.map((attempt) => attemptText(attempt, a.transport)).join('; ');
  return finding(NAME, 'True', udpUnconfirmed ? HealthyReason.UDPNoReply : LayerReason.ServiceConnected, `ClusterIP ${service.clusterIP} ${text}.`);
}

function failedAttemptReason(failed: ServiceAttempt): string {
  if (failed.connect && failed.connect.status !== 'ok') return symptomReason(failed.connect.status);
  if (failed.http?.status === 'unexpectedStatus') return Cause.UnexpectedHTTPStatus;
  return failed.http?.status === 'tlsError' ? Cause.TLSError : Cause.HTTPRequestFailed;
}
