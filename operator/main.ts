// netcheck-operator entry point.
//   node operator/main.ts [--namespaces=a,b] [--workers=4] [--log-level=info] [--metrics-port=8080]
//                         [--leader-elect] [--operator-namespace=netcheck-system]
//                         [--node-source-namespaces=netcheck-system] [--probe-image=IMAGE]
//                         [--allowed-probe-images=IMAGE,...] [--probe-toleration-keys=KEY,...|*]
//                         [--probe-tolerate-all-taints] [--probe-max-cpu=500m] [--probe-max-memory=256Mi] [--max-ephemeral-per-pod=5]
//                         [--node-diagnostics=Off|OnFailure|Always] [--node-diagnostics-namespaces=a,b|*]
// Every flag has an environment variable twin (WATCH_NAMESPACES, WORKERS, LOG_LEVEL, METRICS_PORT,
// LEADER_ELECT, POD_NAMESPACE, NODE_SOURCE_NAMESPACES, PROBE_IMAGE, ALLOWED_PROBE_IMAGES,
// PROBE_TOLERATION_KEYS, PROBE_TOLERATE_ALL_TAINTS, PROBE_MAX_CPU, PROBE_MAX_MEMORY, NODE_DIAGNOSTICS,
// NODE_DIAGNOSTICS_NAMESPACES). The kubeconfig is
// the in-cluster service account when running in a pod, else $KUBECONFIG or ~/.kube/config.
import { hostname } from 'node:os';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_PROBE_IMAGE } from './api/defaults.ts';
import { shareConnections } from './controller/connections.ts';
import { LeaderElector } from './controller/leader.ts';
import { Manager, serveHealthAndMetrics } from './controller/manager.ts';
import { ControllerMetrics } from './controller/metrics.ts';
import { createDiagnose } from './diagnosis/index.ts';
import { createLogger } from './log.ts';
import { PodProbeStage } from './probe/pods.ts';
import { DEFAULT_MAX_EPHEMERAL_PER_POD, parseQuantity, type ProbePolicy } from './probe/policy.ts';
import { NODE_DIAGNOSTICS_MODES, type NodeDiagnosticsMode, type NodeDiagnosticsSettings } from './probe/node-inspection.ts';

export interface OperatorConfig {
  namespaces: string[];
  workers: number;
  logLevel: string;
  metricsPort: number;
  leaderElect: boolean;
  operatorNamespace: string;
  nodeSourceNamespaces: string[];
  probeImage: string;
  probePolicy: ProbePolicy;
  nodeDiagnostics: NodeDiagnosticsSettings;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}; flags look like --name=value`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = ['namespaces', 'workers', 'log-level', 'metrics-port', 'leader-elect', 'operator-namespace', 'node-source-namespaces', 'probe-image',
    'allowed-probe-images', 'probe-toleration-keys', 'probe-tolerate-all-taints', 'probe-max-cpu', 'probe-max-memory', 'max-ephemeral-per-pod', 'node-diagnostics',
    'node-diagnostics-namespaces'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(' ')}`);
  const get = (flag: string, variable: string, fallback: string) => flags.get(flag) ?? env[variable] ?? fallback;
  const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
  const integer = (text: string, name: string, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const quantity = (flag: string, variable: string, fallback: string) => {
    const text = get(flag, variable, fallback);
    if (parseQuantity(text) === undefined) throw new Error(`--${flag} must be a resource quantity such as 500m or 256Mi, got ${JSON.stringify(text)}`);
    return text;
  };
  const operatorNamespace = get('operator-namespace', 'POD_NAMESPACE', 'netcheck-system');
  const probeImage = get('probe-image', 'PROBE_IMAGE', DEFAULT_PROBE_IMAGE);
  const probePolicy: ProbePolicy = {
    image: probeImage,
    // By default the operator runs only its own image: a check's author must not pick the code the probe runs.
    allowedImages: list(get('allowed-probe-images', 'ALLOWED_PROBE_IMAGES', probeImage)),
    tolerationKeys: list(get('probe-toleration-keys', 'PROBE_TOLERATION_KEYS', '*')),
    tolerateAllTaints: get('probe-tolerate-all-taints', 'PROBE_TOLERATE_ALL_TAINTS', 'false') === 'true',
    maxCpu: quantity('probe-max-cpu', 'PROBE_MAX_CPU', '500m'),
    maxMemory: quantity('probe-max-memory', 'PROBE_MAX_MEMORY', '256Mi'),
    maxEphemeralPerPod: integer(get('max-ephemeral-per-pod', 'MAX_EPHEMERAL_PER_POD', String(DEFAULT_MAX_EPHEMERAL_PER_POD)), 'max-ephemeral-per-pod', 0, 100),
  };
  const mode = get('node-diagnostics', 'NODE_DIAGNOSTICS', 'Off');
  if (!(NODE_DIAGNOSTICS_MODES as readonly string[]).includes(mode)) {
    throw new Error(`--node-diagnostics must be one of ${NODE_DIAGNOSTICS_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const nodeDiagnostics: NodeDiagnosticsSettings = {
    mode: mode as NodeDiagnosticsMode,
    namespaces: list(get('node-diagnostics-namespaces', 'NODE_DIAGNOSTICS_NAMESPACES', '*')),
  };
  return {
    namespaces: list(get('namespaces', 'WATCH_NAMESPACES', '')),
    workers: integer(get('workers', 'WORKERS', '4'), 'workers', 1, 64),
    logLevel: get('log-level', 'LOG_LEVEL', 'info'),
    metricsPort: integer(get('metrics-port', 'METRICS_PORT', '8080'), 'metrics-port', 0, 65535),
    leaderElect: get('leader-elect', 'LEADER_ELECT', 'false') === 'true',
    operatorNamespace,
    nodeSourceNamespaces: list(get('node-source-namespaces', 'NODE_SOURCE_NAMESPACES', operatorNamespace)),
    probeImage,
    probePolicy,
    nodeDiagnostics,
  };
}

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  return shareConnections(kc);
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2), process.env);
  const log = createLogger(config.logLevel);
  const kubeConfig = loadKubeConfig();
  const metrics = new ControllerMetrics();
  let manager: Manager | undefined;
  let elector: LeaderElector | undefined;
  const server = serveHealthAndMetrics(config.metricsPort, () => manager, metrics, () => true);

  const build = () => new Manager({
    kubeConfig, log, metrics,
    namespaces: config.namespaces,
    workers: config.workers,
    nodeSourceNamespaces: config.nodeSourceNamespaces,
    operatorNamespace: config.operatorNamespace,
    probePolicy: config.probePolicy,
    nodeDiagnostics: config.nodeDiagnostics,
    stage: new PodProbeStage({
      core: kubeConfig.makeApiClient(CoreV1Api), crds: kubeConfig.makeApiClient(ApiextensionsV1Api),
      operatorNamespace: config.operatorNamespace, policy: config.probePolicy, nodeInspection: config.nodeDiagnostics.mode !== 'Off',
    }),
    diagnose: createDiagnose(kubeConfig, { probeImage: config.probeImage }),
  });

  let stopping = false;
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info('Received signal; shutting down', { signal });
    const hardStop = setTimeout(() => process.exit(code || 1), 25_000);
    hardStop.unref();
    await manager?.stop();
    await elector?.release();
    server.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  if (config.leaderElect) {
    elector = new LeaderElector(kubeConfig, { namespace: config.operatorNamespace, name: 'netcheck-operator-leader', identity: `${hostname()}-${process.pid}` }, log);
    // Losing the lease means another replica may act: stop at once, and let the restart re-campaign.
    await elector.run(() => void shutdown('LeaseLost', 1));
  }
  if (stopping) return;
  manager = build();
  await manager.start();
  log.info('Started netcheck-operator', { namespaces: config.namespaces.length ? config.namespaces : ['*'], workers: config.workers, metricsPort: config.metricsPort, leaderElect: config.leaderElect });
}

if (import.meta.main) {
  main().catch((err) => {
    console.error(JSON.stringify({ level: 'error', message: 'Operator failed to start', error: String(err?.stack ?? err) }));
    process.exit(1);
  });
}
