// Defaults the operator applies when a field is absent. The CRD schema defaults the simple ones
// at admission too; these cover objects read before the defaults existed and in-memory tests.
import type { NetworkCheck, NetworkCheckSpec } from './types.generated.ts';

/** The pinned probe image. test/cluster/versions.env builds the local image under this name. */
export const DEFAULT_PROBE_IMAGE = 'docker.io/nicolaka/netshoot:v0.14';
export const DEFAULT_TIMEOUT_SECONDS = 5;
export const DEFAULT_HISTORY_LIMIT = 10;
export const FIELD_MANAGER = 'netcheck-operator';
export const ANNOTATION_RUN_NOW = 'netcheck.dev/run-now';
export const LABEL_CHECK = 'netcheck.dev/check';
export const LABEL_RUN = 'netcheck.dev/run';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'netcheck-operator';

/** A pod this operator created to probe (never a source or destination of a check itself). */
export function isProbePod(pod: { metadata?: { labels?: Record<string, string> } }): boolean {
  return pod.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;
}

export type ResolvedSpec = NetworkCheckSpec & Required<Pick<NetworkCheckSpec, 'protocol' | 'expect' | 'timeoutSeconds' | 'historyLimit'>>;

export function withDefaults(check: NetworkCheck): ResolvedSpec {
  const spec = check.spec;
  return {
    ...spec,
    protocol: spec.protocol ?? 'TCP',
    expect: spec.expect ?? 'Reachable',
    timeoutSeconds: spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    historyLimit: spec.historyLimit ?? DEFAULT_HISTORY_LIMIT,
  };
}

/** The destination port as the probe needs it: explicit, or the protocol's well-known port. */
export function defaultPort(spec: ResolvedSpec): number | string | undefined {
  if (spec.destination.port !== undefined) return spec.destination.port;
  if (spec.protocol === 'HTTP') return 80;
  if (spec.protocol === 'HTTPS') return 443;
  return undefined;
}

/** Short forms for the printer columns: pod/web-1, svc/backend:8080, example.com:443. */
export function describeTarget(check: NetworkCheck): { source: string; destination: string } {
  const { source, destination } = check.spec;
  const ownNamespace = check.metadata?.namespace;
  let from = '?';
  if (source.pod) from = `pod/${source.pod}`;
  else if (source.podSelector) from = `pods/${selectorText(source.podSelector.matchLabels)}`;
  else if (source.workload) from = `${source.workload.kind.toLowerCase()}/${source.workload.name}`;
  else if (source.newPod) from = `newpod/${selectorText(source.newPod.labels)}`;
  else if (source.node) from = `node/${source.node}`;
  const ns = destination.namespace && destination.namespace !== ownNamespace ? `.${destination.namespace}` : '';
  let to = '?';
  if (destination.service) to = `svc/${destination.service}${ns}`;
  else if (destination.pod) to = `pod/${destination.pod}${ns}`;
  else if (destination.podSelector) to = `pods/${selectorText(destination.podSelector.matchLabels)}${ns}`;
  else if (destination.host) to = destination.host;
  const port = defaultPort(withDefaults(check));
  return { source: from, destination: port === undefined ? to : `${to}:${port}` };
}

function selectorText(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '*';
}
