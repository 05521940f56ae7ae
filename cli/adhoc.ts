// The one-shot NetworkCheck behind `kubectl netcheck run` and compact suite entries: the spec from the
// flags, validated the way the CRD's CEL rules would validate it but with the flag named, under a
// generated name and the ad-hoc label (so that a user or a clean-up job can find leftovers with
// `kubectl get netcheck -l netcheck.dev/ad-hoc`).
import { GROUP, KIND, VERSION } from '../operator/api/schema.ts';
import type { NetworkCheck, NetworkCheckDestination, NetworkCheckSource, NetworkCheckSpec } from '../operator/api/types.generated.ts';
import { UsageError } from './errors.ts';
import { isIP } from 'node:net';

export const LABEL_AD_HOC = 'netcheck.dev/ad-hoc';
export const LABEL_CREATED_BY = 'app.kubernetes.io/created-by';
export const CREATED_BY = 'kubectl-netcheck';

export const PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'ICMP', 'DNS'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface CheckOptions {
  source: NetworkCheckSource;
  destination: NetworkCheckDestination;
  protocol?: Protocol;
  path?: string;
  expect?: 'Reachable' | 'Blocked';
  capture?: boolean;
  timeoutSeconds?: number;
}

export function parseProtocol(value: string, flag = '--protocol'): Protocol {
  const upper = value.trim().toUpperCase();
  if (!(PROTOCOLS as readonly string[]).includes(upper)) throw new UsageError(flag, `"${value}" is not a protocol; use one of ${PROTOCOLS.join(', ')}`);
  return upper as Protocol;
}

export function parseExpect(value: string, flag = '--expect'): 'Reachable' | 'Blocked' {
  const lower = value.trim().toLowerCase();
  if (lower === 'blocked') return 'Blocked';
  if (lower === 'reachable') return 'Reachable';
  throw new UsageError(flag, `"${value}" is not an expectation; use blocked or reachable`);
}

/** "5s", "5", "1m", "1500ms" (whole seconds only): the probe's per-step limit, 1-60 s as the CRD allows. */
export function parseTimeout(value: string, flag = '--timeout'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new UsageError(flag, `"${value}" is not a duration; use e.g. 5s or 1m`);
  const factor = match[2] === 'ms' ? 0.001 : match[2] === 'm' ? 60 : 1;
  const seconds = Number(match[1]) * factor;
  if (!Number.isInteger(seconds)) throw new UsageError(flag, `${value} is not a whole number of seconds`);
  if (seconds < 1 || seconds > 60) throw new UsageError(flag, `${value} is out of range: 1s to 60s`);
  return seconds;
}

/** The protocol when none is given: HTTP with a path, TCP with a port, ICMP for a bare host or IP. */
function defaultProtocol(options: CheckOptions): Protocol {
  if (options.path !== undefined) return 'HTTP';
  if (options.destination.port !== undefined) return 'TCP';
  if (options.destination.host !== undefined) return 'ICMP';
  throw new UsageError('--to', 'a Service destination needs a port (svc/NAME:PORT), or --protocol HTTP, HTTPS or DNS');
}

/** The rules of the CRD's CEL validations that concern flags, with the flag named. */
function validate(spec: NetworkCheckSpec): void {
  const { destination, protocol } = spec;
  if ((protocol === 'TCP' || protocol === 'UDP') && destination.port === undefined) throw new UsageError('--to', `protocol ${protocol} needs a port, e.g. svc/backend:8080`);
  if ((protocol === 'ICMP' || protocol === 'DNS') && destination.port !== undefined) throw new UsageError('--to', `protocol ${protocol} takes no port; remove :${destination.port}`);
  if (protocol === 'DNS' && destination.host !== undefined && isIP(destination.host)) throw new UsageError('--to', 'protocol DNS resolves a name, not an IP address');
  if (protocol === 'DNS' && destination.pod !== undefined) throw new UsageError('--to', 'protocol DNS needs a svc/NAME or a host name');
  if (spec.http && protocol !== 'HTTP' && protocol !== 'HTTPS') throw new UsageError('--path', `only with protocol HTTP or HTTPS, not ${protocol}`);
  if (spec.expect === 'Blocked' && spec.source.node) throw new UsageError('--expect', 'blocked asserts a NetworkPolicy, which never applies to a node source');
  if (typeof destination.port === 'string' && !destination.service && !destination.pod) throw new UsageError('--to', 'a named port needs svc/NAME or pod/NAME');
}

export function buildSpec(options: CheckOptions): NetworkCheckSpec {
  if (options.path !== undefined && !/^\/\S*$/.test(options.path)) throw new UsageError('--path', `"${options.path}" must start with / and contain no spaces`);
  const protocol = options.protocol ?? defaultProtocol(options);
  const spec: NetworkCheckSpec = {
    source: options.source,
    destination: options.destination,
    protocol,
    ...(options.path !== undefined ? { http: { path: options.path } } : {}),
    ...(options.expect ? { expect: options.expect } : {}),
    ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
    ...(options.capture ? { capture: { when: 'Always' as const } } : {}),
    historyLimit: 1,
  };
  validate(spec);
  return spec;
}

/** A readable generateName prefix: web-to-backend-, or netcheck- when nothing usable is left. */
export function namePrefix(spec: NetworkCheckSpec): string {
  const { source, destination } = spec;
  const from = source.pod ?? source.workload?.name ?? source.node ?? Object.values(source.podSelector?.matchLabels ?? source.newPod?.labels ?? {})[0];
  const to = destination.service ?? destination.pod ?? destination.host;
  const clean = (text: string | undefined) => (text ?? '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 20).replace(/-+$/, '');
  const [a, b] = [clean(from), clean(to)];
  return a && b ? `${a}-to-${b}-` : 'netcheck-';
}

export function adHocCheck(namespace: string, spec: NetworkCheckSpec): NetworkCheck {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: KIND,
    metadata: { generateName: namePrefix(spec), namespace, labels: { [LABEL_AD_HOC]: 'true', [LABEL_CREATED_BY]: CREATED_BY } },
    spec,
  };
}
