// Maps a check and its resolved targets onto the probe program's environment variables
// (operator/probe/netcheck-probe.sh documents them). Values are data, never shell code: the program
// validates each one against a strict format before use.
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.ts';
import { PROBE_ENV, PROBE_MAX_ENDPOINTS } from './result.ts';
import type { RunRequest } from './stage.ts';

export interface EnvOptions {
  mode: 'pod' | 'node';
  port: number | string | undefined;
  sourceNode?: string;
}

export interface ResolvedPort { servicePort?: V1ServicePort; port?: number; error?: string }

/** The Service port a check means: by number, by name, or the only one. */
export function resolveServicePort(service: V1Service, port: number | string | undefined): ResolvedPort {
  const ports = service.spec?.ports ?? [];
  let servicePort: V1ServicePort | undefined;
  if (typeof port === 'number') servicePort = ports.find((p) => p.port === port);
  else if (typeof port === 'string') servicePort = ports.find((p) => p.name === port);
  else if (ports.length === 1) servicePort = ports[0];
  if (!servicePort) {
    const known = ports.map((p) => (p.name ? `${p.name}/${p.port}` : String(p.port))).join(', ') || 'none';
    if (port === undefined) return {};
    return { port: typeof port === 'number' ? port : undefined, error: `Service ${service.metadata?.namespace}/${service.metadata?.name} has no port ${port} (it has: ${known})` };
  }
  return { servicePort, port: servicePort.port };
}

/** A pod's container port by name (named targetPort / named destination port). */
export function containerPortByName(pod: V1Pod, name: string): number | undefined {
  for (const container of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const found = container.ports?.find((p) => p.name === name);
    if (found) return found.containerPort;
  }
  return undefined;
}

/** The backend endpoint of a pod for a Service port: pod IP and the resolved targetPort. */
export function backendEndpoint(pod: V1Pod, servicePort: V1ServicePort): { ip: string; port: number } | undefined {
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  const target = servicePort.targetPort ?? servicePort.port;
  const port = typeof target === 'number' ? target : /^\d+$/.test(String(target)) ? Number(target) : containerPortByName(pod, String(target));
  return port ? { ip, port } : undefined;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function expectedStatus(spec: ResolvedSpec): string | undefined {
  const codes = spec.http?.expectedStatus;
  return codes?.length ? codes.join(',') : undefined;
}

export function probeEnvironment(request: RunRequest, options: EnvOptions): { name: string; value: string }[] {
  const { check, targets } = request;
  const spec = request.spec;
  const namespace = check.metadata!.namespace!;
  const destination = spec.destination;
  const destNamespace = destination.namespace ?? namespace;
  const env: Record<string, string | undefined> = {
    [PROBE_ENV.mode]: options.mode,
    [PROBE_ENV.protocol]: spec.protocol,
    [PROBE_ENV.timeoutSeconds]: String(spec.timeoutSeconds),
  };
  const endpoints: string[] = [];
  let port: number | undefined = typeof options.port === 'number' ? options.port : undefined;

  if (destination.service) {
    const service = targets.destinationService;
    // The name an application in the source namespace would use, resolved through the search path.
    env[PROBE_ENV.host] = destNamespace === namespace ? destination.service : `${destination.service}.${destNamespace}.svc`;
    if (service) {
      const clusterIP = service.spec?.clusterIP;
      if (clusterIP && clusterIP !== 'None' && service.spec?.type !== 'ExternalName') env[PROBE_ENV.targetIp] = clusterIP;
      const resolved = resolveServicePort(service, options.port);
      if (resolved.port) port = resolved.port;
      if (resolved.servicePort) {
        for (const pod of targets.destinationPods.filter(isReady)) {
          const ep = backendEndpoint(pod, resolved.servicePort);
          if (ep) endpoints.push(formatEndpoint(ep.ip, ep.port));
        }
      }
      if (clusterIP === 'None' && endpoints.length === 0) env[PROBE_ENV.targetIp] = undefined;
    }
  } else if (destination.pod || destination.podSelector) {
    const pods = targets.destinationPods.filter((p) => p.status?.podIP);
    const first = pods[0];
    if (first) {
      env[PROBE_ENV.targetIp] = first.status!.podIP!;
      if (typeof options.port === 'string') port = containerPortByName(first, options.port);
      for (const pod of pods.slice(1)) {
        const p = typeof options.port === 'string' ? containerPortByName(pod, options.port) : port;
        if (p) endpoints.push(formatEndpoint(pod.status!.podIP!, p));
      }
    }
  } else if (destination.host) {
    env[PROBE_ENV.host] = destination.host;
  }

  if (port !== undefined && spec.protocol !== 'ICMP' && spec.protocol !== 'DNS') env[PROBE_ENV.port] = String(port);
  if (endpoints.length && spec.protocol !== 'ICMP' && spec.protocol !== 'DNS') env[PROBE_ENV.endpoints] = endpoints.slice(0, PROBE_MAX_ENDPOINTS).join(' ');
  if (spec.protocol === 'HTTP' || spec.protocol === 'HTTPS') {
    env[PROBE_ENV.httpPath] = spec.http?.path;
    env[PROBE_ENV.httpMethod] = spec.http?.method;
    env[PROBE_ENV.httpHost] = spec.http?.host;
    env[PROBE_ENV.httpExpected] = expectedStatus(spec);
  }
  if (spec.protocol !== 'DNS' && spec.protocol !== 'ICMP') {
    // A ClusterIP does not answer pings: measure the path MTU to a backend pod when there is one.
    env[PROBE_ENV.mtuCheck] = '1';
    const backend = endpoints[0]?.replace(/^\[?([^\]]+?)\]?:\d+$/, '$1');
    const mtuTarget = destination.service ? backend : env[PROBE_ENV.targetIp];
    if (mtuTarget) env[PROBE_ENV.mtuTarget] = mtuTarget;
    else if (destination.service) env[PROBE_ENV.mtuCheck] = '0';
  }
  if (options.mode === 'node' && env[PROBE_ENV.targetIp]) env[PROBE_ENV.serviceIp] = env[PROBE_ENV.targetIp];
  return Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '').map(([name, value]) => ({ name, value }));
}
