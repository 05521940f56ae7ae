// The operator process of the load benchmark (bench/load.ts starts it): the Manager as
// operator/main.ts builds it, the real diagnosis, but the probe stage stubbed at its interface
// (test/support/stub-stage.ts: a run "probes" for PROBE_MS, then reports a reachable Service). For
// this benchmark only: it measures the operator, not probe pods.
//
// It also counts the API requests it makes. Every client-node request, API calls and watches alike,
// passes through KubeConfig.applySecurityAuthentication, so wrapping it counts them all at the client.
//
//   KUBECONFIG=... METRICS_PORT=... [WORKERS=4] [PROBE_MS=2000] [PROBE_NODE=...] node bench/load-operator.ts
// Serves /metrics, /healthz, /readyz (serveHealthAndMetrics) and, on BENCH_PORT, /bench: JSON with
// every run the stub stage saw and the request counts so far.
import { createServer } from 'node:http';
import type { RequestContext } from '@kubernetes/client-node';
import { Manager, serveHealthAndMetrics } from '../operator/controller/manager.ts';
import { ControllerMetrics } from '../operator/controller/metrics.ts';
import { createDiagnose } from '../operator/diagnosis/index.ts';
import { createLogger } from '../operator/log.ts';
import { loadKubeConfig } from '../operator/main.ts';
import { StubProbeStage } from '../test/support/stub-stage.ts';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
// Info, as operator/main.ts logs by default: the per-run log lines are part of the cost measured.
const log = createLogger(env('LOG_LEVEL', 'info'));
const kubeConfig = loadKubeConfig();

const requests = new Map<string, number>();
/** "GET pods", "PATCH networkchecks/status", "WATCH pods": the verb and the resource of a request path. */
function describeRequest(method: string, url: string): string {
  const parsed = new URL(url);
  const parts = parsed.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...; then [namespaces/<ns>/]<resource>[/<name>[/<subresource>]].
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : rest[0] ?? parsed.pathname;
  const verb = parsed.searchParams.get('watch') === 'true' ? 'WATCH' : rest.length === 1 && method === 'GET' ? 'LIST' : method;
  return `${verb} ${resource}`;
}
const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
kubeConfig.applySecurityAuthentication = async (context: RequestContext) => {
  const what = describeRequest(context.getHttpMethod(), context.getUrl());
  requests.set(what, (requests.get(what) ?? 0) + 1);
  return authenticate(context);
};

const stage = new StubProbeStage({ runDurationMs: Number(env('PROBE_MS', '2000')), nodeName: env('PROBE_NODE', 'node-a') });
const metrics = new ControllerMetrics();
const manager = new Manager({
  kubeConfig, log, metrics, stage,
  diagnose: createDiagnose(kubeConfig),
  namespaces: env('WATCH_NAMESPACES', '').split(',').filter(Boolean),
  workers: Number(env('WORKERS', '4')),
});
const server = serveHealthAndMetrics(Number(env('METRICS_PORT', '8080')), () => manager, metrics, () => true);
const bench = createServer((req, res) => {
  if (req.url !== '/bench') { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ runs: stage.runs, requests: Object.fromEntries(requests) }));
});
bench.listen(Number(env('BENCH_PORT', '8081')), '127.0.0.1');

process.on('SIGTERM', () => {
  void manager.stop().then(() => {
    server.close();
    bench.close();
    process.exit(0);
  });
});
await manager.start();
log.info('Started the load benchmark operator', { workers: Number(env('WORKERS', '4')) });
