// Load benchmark: 1,000 NetworkChecks scheduled every minute against one operator process.
//
// Starts its own etcd + kube-apiserver (test/support/apiserver.ts), installs the CRD and the operator's
// RBAC, creates a small world per namespace (a source pod, a Service with one ready backend and its
// EndpointSlice), starts the operator (bench/load-operator.ts: the real Manager and diagnosis, the probe
// stage stubbed at its interface, a run "probing" for PROBE_MS), creates the checks, and once their
// first runs are done measures a window of MINUTES whole minutes:
//   - operator RSS (peak and end of the window, and the process's all-time peak), from /proc;
//   - operator CPU seconds (user + sys) and CPU % of one core over the window, from /proc;
//   - API requests the operator made per completed run (counted at its client), and by kind;
//   - schedule lag p50/p99/max: probe start minus the minute it stands for, for every run in the
//     window (stub timestamps, ms), cross-checked with status.lastRun (startTime - scheduledTime, s);
//   - runs started vs fire times due, work-queue depth: whether the operator keeps up.
//
//   npm run bench:load                       # 1,000 checks, 10 namespaces, 3 minutes (about 5 min in all)
//   CHECKS=200 MINUTES=2 WORKERS=8 npm run bench:load
//   OPERATOR_NODE_OPTIONS=--max-old-space-size=192 npm run bench:load   # the operator in a smaller heap
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import type { NetworkCheck } from '../operator/api/types.generated.ts';
import { freePort, startControlPlane } from '../test/support/apiserver.ts';
import { buildEndpointSlice, buildNode, buildPod } from '../test/support/builders.ts';
import { waitFor } from '../test/support/cluster.ts';
import type { StubRun } from '../test/support/stub-stage.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const intEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return value;
};
const CHECKS = intEnv('CHECKS', 1000);
const NAMESPACES = intEnv('NAMESPACES', 10);
const MINUTES = intEnv('MINUTES', 3);
const WORKERS = intEnv('WORKERS', 4);
const PROBE_MS = intEnv('PROBE_MS', 2000);
const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';
const MINUTE = 60_000;
const NODE = 'bench-node';
const OPERATOR_USER = 'system:serviceaccount:netcheck-system:netcheck-operator';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Open sockets of a process (its TCP connections to the API server, mostly), from /proc. */
function openSockets(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try { return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'); } catch { return false; }
  }).length;
}

/** CPU seconds (user + sys), current and peak RSS of a process, from /proc. */
function processStats(pid: number): { cpuSeconds: number; rssBytes: number; peakRssBytes: number } {
  // Fields after the parenthesised command name: utime and stime are fields 14 and 15 of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / clockTicks;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { cpuSeconds, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** Runs `work` over items with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`load benchmark: ${CHECKS} NetworkChecks scheduled "* * * * *" in ${NAMESPACES} namespaces, ${WORKERS} workers, stub probe ${PROBE_MS} ms, window ${MINUTES} min`);
  const plane = await startControlPlane();
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    const crd = plane.kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds/netcheck.dev_networkchecks.yaml')]);
    if (crd.code !== 0) throw new Error(`CRD apply failed: ${crd.stderr}`);
    const established = plane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/networkchecks.netcheck.dev']);
    if (established.code !== 0) throw new Error(`CRD not established: ${established.stderr}`);
    // The operator runs as its ServiceAccount with exactly the RBAC in config/.
    const rbac = plane.kubectl(['apply', '--server-side', '-k', join(repoRoot, 'config/')]);
    if (rbac.code !== 0) throw new Error(`config/ apply failed: ${rbac.stderr}`);
    plane.userKubeConfig(OPERATOR_USER, ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
    // KUBECONFIG is a ':'-separated list, and the user name has colons: hand over a copy.
    const operatorKubeconfig = join(plane.dir, 'operator.kubeconfig');
    copyFileSync(join(plane.dir, `${OPERATOR_USER}.kubeconfig`), operatorKubeconfig);

    const kc = plane.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `load-${i}`);
    await core.createNode({ body: buildNode(NODE, { internalIP: '172.30.0.2', podCIDR: '10.244.0.0/16' }) });
    const createRunningPod = async (pod: V1Pod) => {
      const { status, ...withoutStatus } = pod;
      const namespace = pod.metadata!.namespace!;
      await core.createNamespacedPod({ namespace, body: withoutStatus });
      const current = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace });
      current.status = status;
      await core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace, body: current });
    };
    for (const [i, namespace] of namespaces.entries()) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await createRunningPod(buildPod('web', { namespace, labels: { app: 'web' }, ip: `10.244.${i}.10`, nodeName: NODE }));
      await createRunningPod(buildPod('backend-1', { namespace, labels: { app: 'backend' }, ip: `10.244.${i}.21`, nodeName: NODE, ports: [{ containerPort: 8080, name: 'http' }] }));
      await core.createNamespacedService({ namespace, body: { metadata: { name: 'backend', namespace }, spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } } });
      await discovery.createNamespacedEndpointSlice({ namespace, body: buildEndpointSlice('backend', namespace, [{ ip: `10.244.${i}.21`, nodeName: NODE, podName: 'backend-1' }], [{ port: 8080, name: 'http' }]) });
    }

    const metricsPort = await freePort();
    const benchPort = await freePort();
    const logFile = join(plane.dir, 'operator.log');
    const operatorLog = openSync(logFile, 'a');
    // OPERATOR_NODE_OPTIONS, e.g. --max-old-space-size=192, to see how the operator fares in a memory limit.
    const nodeOptions = (process.env.OPERATOR_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
    operator = spawn(process.execPath, [...nodeOptions, 'bench/load-operator.ts'], {
      cwd: repoRoot, stdio: ['ignore', operatorLog, operatorLog],
      env: { ...process.env, KUBECONFIG: operatorKubeconfig, METRICS_PORT: String(metricsPort), BENCH_PORT: String(benchPort), WORKERS: String(WORKERS), PROBE_MS: String(PROBE_MS), PROBE_NODE: NODE },
    });
    const pid = operator.pid!;
    const exited = new Promise<void>((_, reject) => operator!.on('exit', (code) => reject(new Error(`the operator exited with ${code}; see ${logFile}`))));
    exited.catch(() => undefined);
    const operatorUp = () => Promise.race([exited, waitFor('operator /readyz', async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200 || undefined, 60_000, 200)]);
    await operatorUp();
    const bench = async (): Promise<{ runs: StubRun[]; requests: Record<string, number> }> => (await fetch(`http://127.0.0.1:${benchPort}/bench`)).json() as never;
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    };
    const queueDepth = () => metric('netcheck_workqueue_depth');

    const createStarted = Date.now();
    const names = Array.from({ length: CHECKS }, (_, i) => ({ namespace: namespaces[i % NAMESPACES]!, name: `check-${String(i).padStart(4, '0')}` }));
    await inParallel(names, 16, async ({ namespace, name }) => {
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name, namespace }, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 }, schedule: '* * * * *' } } });
    });
    const createdMs = Date.now() - createStarted;
    console.log(`created ${CHECKS} checks in ${(createdMs / 1000).toFixed(1)} s; waiting for their first runs`);
    await waitFor('every check to complete its first run', async () => {
      const completed = new Set((await bench()).runs.filter((r) => r.completedAt).map((r) => r.key));
      return completed.size >= CHECKS || undefined;
    }, 10 * MINUTE, 1_000);

    // The window: MINUTES whole minutes, starting 5 s before a boundary so each minute's runs are inside.
    const boundary = Math.ceil((Date.now() + 15_000) / MINUTE) * MINUTE;
    const windowStart = boundary - 5_000;
    const windowEnd = windowStart + MINUTES * MINUTE;
    await sleep(windowStart - Date.now());
    const before = { stats: processStats(pid), bench: await bench() };
    let peakRss = before.stats.rssBytes;
    let maxQueue = 0;
    let maxSockets = 0;
    while (Date.now() < windowEnd) {
      await sleep(Math.min(1_000, Math.max(0, windowEnd - Date.now())));
      peakRss = Math.max(peakRss, processStats(pid).rssBytes);
      maxQueue = Math.max(maxQueue, await queueDepth().catch(() => 0));
      maxSockets = Math.max(maxSockets, openSockets(pid));
    }
    const after = { stats: processStats(pid), bench: await bench() };
    const heap = { used: await metric('nodejs_heap_size_used_bytes'), total: await metric('nodejs_heap_size_total_bytes') };
    const windowSeconds = (windowEnd - windowStart) / 1000;

    const inWindow = (t: number | undefined) => t !== undefined && t >= windowStart && t < windowEnd;
    const startedRuns = after.bench.runs.filter((r) => inWindow(r.startedAt));
    const completedRuns = after.bench.runs.filter((r) => inWindow(r.completedAt));
    // Every run in the window stands for the latest minute due when it started (the planner's rule),
    // so its fire time is that minute; a run that fell a whole minute behind would show as a missing
    // run (fewer runs than fire times) rather than as lag.
    const lags = startedRuns.map((r) => r.startedAt - Math.floor(r.startedAt / MINUTE) * MINUTE);
    const fireTimesDue = CHECKS * MINUTES;
    const requestsByKind = Object.entries(after.bench.requests)
      .map(([kind, count]) => [kind, count - (before.bench.requests[kind] ?? 0)] as const)
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1]);
    const requestTotal = requestsByKind.reduce((sum, [, count]) => sum + count, 0);
    const cpuSeconds = after.stats.cpuSeconds - before.stats.cpuSeconds;

    // Cross-check from the API: the latest run of every check, as recorded in its status.
    const checks: NetworkCheck[] = [];
    for (const namespace of namespaces) checks.push(...((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })).items as NetworkCheck[]));
    const triggers = new Map<string, number>();
    const statusLags: number[] = [];
    for (const check of checks) {
      const run = check.status?.lastRun;
      triggers.set(run?.trigger ?? 'none', (triggers.get(run?.trigger ?? 'none') ?? 0) + 1);
      if (run?.scheduledTime && run.startTime) statusLags.push(Date.parse(run.startTime) - Date.parse(run.scheduledTime));
    }
    const results = new Map<string, number>();
    for (const check of checks) results.set(check.status?.result ?? 'none', (results.get(check.status?.result ?? 'none') ?? 0) + 1);

    const rows: [string, string][] = [
      ['checks / namespaces / workers', `${CHECKS} / ${NAMESPACES} / ${WORKERS}`],
      ['window', `${windowSeconds} s (${MINUTES} fire times per check)`],
      ['runs started / fire times due', `${startedRuns.length} / ${fireTimesDue}`],
      ['runs completed in the window', String(completedRuns.length)],
      ['operator RSS: end of window', mb(after.stats.rssBytes)],
      ['operator RSS: peak in window', mb(peakRss)],
      ['operator RSS: peak since start (VmHWM)', mb(after.stats.peakRssBytes)],
      ['operator V8 heap: used / total, end', `${mb(heap.used)} / ${mb(heap.total)}`],
      ['operator CPU (user+sys)', `${cpuSeconds.toFixed(1)} s = ${((100 * cpuSeconds) / windowSeconds).toFixed(1)} % of one core`],
      ['operator CPU per run', `${((1000 * cpuSeconds) / Math.max(1, completedRuns.length)).toFixed(1)} ms`],
      ['API requests (operator)', `${requestTotal} = ${(requestTotal / windowSeconds).toFixed(1)}/s`],
      ['API requests per completed run', (requestTotal / Math.max(1, completedRuns.length)).toFixed(2)],
      ['schedule lag p50 / p99 / max (stub, ms)', `${ms(percentile(lags, 50))} / ${ms(percentile(lags, 99))} / ${ms(Math.max(...lags))}`],
      ['schedule lag p50 / p99 (status, 1 s resolution)', `${ms(percentile(statusLags, 50))} / ${ms(percentile(statusLags, 99))}`],
      ['work queue depth, max sampled', String(maxQueue)],
      ['operator open sockets, max sampled', String(maxSockets)],
      ['latest run trigger (status)', [...triggers].map(([t, n]) => `${t} ${n}`).join(', ')],
      ['result (status)', [...results].map(([r, n]) => `${r} ${n}`).join(', ')],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log('');
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
    console.log('');
    console.log('  API requests per completed run, by kind:');
    for (const [kind, count] of requestsByKind) console.log(`    ${kind.padEnd(36)} ${(count / Math.max(1, completedRuns.length)).toFixed(3)}`);
    console.log(`\n  total time ${((Date.now() - started) / 1000).toFixed(0)} s; operator log: ${process.env.NETCHECK_KEEP_TEST_DIRS ? logFile : '(removed; set NETCHECK_KEEP_TEST_DIRS=1 to keep it)'}`);
  } finally {
    if (operator && operator.exitCode === null) {
      const gone = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await Promise.race([gone, sleep(20_000)]);
      if (operator.exitCode === null) operator.kill('SIGKILL');
    }
    await plane.stop();
  }
}

await main();
