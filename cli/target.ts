// The from/to syntax of `kubectl netcheck run` and of compact suite entries, turned into the
// NetworkCheck's spec.source and spec.destination (operator/api types: the CLI writes the same
// resource a user would apply). Every rejection names the flag and shows the accepted forms.
//
//   --from pod/NAME | deploy/NAME | sts/NAME | ds/NAME | node/NAME | new:k=v[,k=v] | -l k=v[,k=v]
//   --to   svc/NAME[.NAMESPACE][:PORT] | pod/NAME:PORT | HOST:PORT | IP[:PORT] | [IPv6]:PORT
import { isIP } from 'node:net';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, HOSTNAME, LABEL_KEY, LABEL_VALUE } from '../operator/api/schema.ts';
import type { NetworkCheckDestination, NetworkCheckSource, WorkloadRef } from '../operator/api/types.generated.ts';
import { UsageError } from './errors.ts';

export const FROM_FORMS = 'pod/NAME, deploy/NAME, sts/NAME, ds/NAME, node/NAME, new:app=web or -l app=web';
export const TO_FORMS = 'svc/NAME[:PORT], pod/NAME:PORT, HOST:PORT or an IP';

const WORKLOAD_KINDS: Record<string, WorkloadRef['kind']> = {
  deploy: 'Deployment', deployment: 'Deployment', deployments: 'Deployment',
  sts: 'StatefulSet', statefulset: 'StatefulSet', statefulsets: 'StatefulSet',
  ds: 'DaemonSet', daemonset: 'DaemonSet', daemonsets: 'DaemonSet',
};

const matches = (pattern: string, value: string) => new RegExp(pattern).test(value);

function objectName(flag: string, kind: string, name: string): string {
  if (name.length === 0 || name.length > 253 || !matches(DNS1123_SUBDOMAIN, name)) {
    throw new UsageError(flag, `"${name}" is not a valid ${kind} name (lower-case letters, digits, '-' and '.')`);
  }
  return name;
}

/** "app=web,tier=front" -> { app: 'web', tier: 'front' }. */
export function parseLabels(flag: string, text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(flag, `"${pair}" is not a label (expected key=value)`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim().replace(/^=/, '');
    if (!matches(LABEL_KEY, key)) throw new UsageError(flag, `"${key}" is not a valid label key`);
    if (value.length > 63 || !matches(LABEL_VALUE, value)) throw new UsageError(flag, `"${value}" is not a valid label value`);
    labels[key] = value;
  }
  if (Object.keys(labels).length === 0) throw new UsageError(flag, 'expected at least one label, e.g. app=web');
  return labels;
}

/** Parses --from (or -l, whose value is a selector). */
export function parseSource(value: string, flag = '--from'): NetworkCheckSource {
  const text = value.trim();
  const selector = /^-l\s*=?\s*(.+)$/.exec(text);
  if (selector) return { podSelector: { matchLabels: parseLabels(flag, selector[1]) } };
  if (text.startsWith('new:')) return { newPod: { labels: parseLabels(flag, text.slice(4)) } };
  const slash = text.indexOf('/');
  if (slash <= 0) throw new UsageError(flag, `"${value}" is not a source; use ${FROM_FORMS}`);
  const kind = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  if (kind === 'pod' || kind === 'pods' || kind === 'po') return { pod: objectName(flag, 'pod', name) };
  if (kind === 'node' || kind === 'nodes' || kind === 'no') return { node: objectName(flag, 'node', name) };
  const workload = WORKLOAD_KINDS[kind];
  if (workload) return { workload: { kind: workload, name: objectName(flag, workload, name) } };
  throw new UsageError(flag, `unknown source kind "${kind}"; use ${FROM_FORMS}`);
}

export function parsePort(flag: string, text: string): number | string {
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < 1 || port > 65535) throw new UsageError(flag, `port ${text} is out of range 1-65535`);
    return port;
  }
  if (text.length > 15 || !matches(DNS1123_LABEL, text)) throw new UsageError(flag, `"${text}" is neither a port number nor a port name`);
  return text;
}

/** "name:port" -> [name, port?]; IPv6 literals need brackets when a port follows. */
function splitPort(flag: string, text: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) return [bracketed[1], bracketed[2]];
  if (isIP(text) === 6) return [text, undefined];
  const colon = text.lastIndexOf(':');
  if (colon < 0) return [text, undefined];
  if (colon === text.length - 1) throw new UsageError(flag, `"${text}" ends in ':' without a port`);
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/** Parses --to. */
export function parseDestination(value: string, flag = '--to'): NetworkCheckDestination {
  const text = value.trim();
  const typed = /^(svc|service|services|pod|pods|po)\/(.+)$/i.exec(text);
  if (typed) {
    const [name, port] = splitPort(flag, typed[2]);
    const withPort = port === undefined ? {} : { port: parsePort(flag, port) };
    if (typed[1].toLowerCase().startsWith('s')) {
      // Service names are DNS-1035 labels (no dots): svc/NAME.NAMESPACE names another namespace.
      const [service, namespace, ...rest] = name.split('.');
      if (rest.length > 0 || !matches(DNS1123_LABEL, service) || (namespace !== undefined && !matches(DNS1123_LABEL, namespace))) {
        throw new UsageError(flag, `"${name}" is not a Service name (svc/NAME or svc/NAME.NAMESPACE)`);
      }
      return { service, ...(namespace ? { namespace } : {}), ...withPort };
    }
    if (port === undefined) throw new UsageError(flag, `a pod destination needs a port: pod/${name}:PORT`);
    return { pod: objectName(flag, 'pod', name), ...withPort };
  }
  if (text.includes('/')) throw new UsageError(flag, `"${value}" is not a destination; use ${TO_FORMS}`);
  const [host, port] = splitPort(flag, text);
  if (!isIP(host) && !matches(HOSTNAME, host)) throw new UsageError(flag, `"${host}" is neither a host name nor an IP address`);
  if (port === undefined) return { host };
  if (!/^\d+$/.test(port)) throw new UsageError(flag, `a host destination needs a port number, not "${port}"`);
  return { host, port: parsePort(flag, port) };
}
