// Benchmark: time from creating a NetworkCheck to its probe result being recorded, for a healthy
// pod -> Service check on the local cluster (image already present). Prints p50/p95 over N runs and
// the share of time spent before the probe pod exists (controller + API), until its container runs
// (kubelet + containerd start), probing (the probe program), and recording (result -> status write).
//
//   bash test/cluster/up.sh && node bench/probe-latency.ts [runs=20]
//   NODE_DIAGNOSTICS=OnFailure|Always: with node inspection pods next to the probe (--node-diagnostics).
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { NetworkCheck } from '../operator/api/types.generated.ts';
import { Manager } from '../operator/controller/manager.ts';
import { createDiagnose } from '../operator/diagnosis/index.ts';
import { silentLogger } from '../operator/log.ts';
import { PodProbeStage } from '../operator/probe/pods.ts';
import type { NodeDiagnosticsMode } from '../operator/probe/node-inspection.ts';
import { BACKEND_PORTS, TestCluster, waitFor } from '../test/support/cluster.ts';

const runs = Number(process.argv[2] ?? 20);
const nodeDiagnostics = (process.env.NODE_DIAGNOSTICS ?? 'Off') as NodeDiagnosticsMode;
const OPERATOR_NAMESPACE = 'netcheck-system';
const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';

interface Sample { total: number; create: number; start: number; probe: number; record: number; result: string }

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const cluster = await TestCluster.connect();
  cluster.installNetworkCheckCrd();
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const namespace = await cluster.createNamespace('bench');
  try {
    await cluster.createBackend({ namespace, name: 'backend' });
    await cluster.startPod({ namespace, name: 'web', labels: { app: 'web' } });
    await cluster.core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } }).catch(() => undefined);
    const manager = new Manager({
      kubeConfig: cluster.kubeConfig, log: silentLogger(), namespaces: [namespace], workers: 2, operatorNamespace: OPERATOR_NAMESPACE,
      nodeDiagnostics: { mode: nodeDiagnostics, namespaces: ['*'] },
      stage: new PodProbeStage({
        core: cluster.core, crds: cluster.kubeConfig.makeApiClient(ApiextensionsV1Api), operatorNamespace: OPERATOR_NAMESPACE, defaultImage: cluster.probeImage,
        nodeInspection: nodeDiagnostics !== 'Off',
      }),
      diagnose: createDiagnose(cluster.kubeConfig, { probeImage: cluster.probeImage }),
    });
    await manager.start();
    await manager.waitForSync();
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `bench-${i}`;
      const t0 = performance.now();
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name, namespace }, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: BACKEND_PORTS.http.service } } } });
      let podCreated = 0, containerRunning = 0, containerDone = 0;
      const check = await waitFor(`run of ${name}`, async () => {
        const now = performance.now();
        const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${name}` });
        const pod = pods.items[0];
        if (pod && !podCreated) podCreated = now;
        const state = pod?.status?.containerStatuses?.[0]?.state;
        if ((state?.running || state?.terminated) && !containerRunning) containerRunning = now;
        if (state?.terminated && !containerDone) containerDone = now;
        const c = await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }) as NetworkCheck;
        return c.status?.lastRun?.completionTime ? c : undefined;
      }, 120_000, 25);
      const end = performance.now();
      // A stage observed in the same poll as the next one gets the poll's time: shares are approximate
      // to the 25 ms poll interval.
      containerRunning ||= containerDone || end;
      containerDone ||= end;
      podCreated ||= containerRunning;
      samples.push({ total: end - t0, create: podCreated - t0, start: containerRunning - podCreated, probe: containerDone - containerRunning, record: end - containerDone, result: `${check.status?.result}/${check.status?.reason}` });
      await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name });
    }
    await manager.stop();
    const totals = samples.map((s) => s.total);
    const sum = (key: keyof Omit<Sample, 'result'>) => samples.reduce((acc, s) => acc + s[key], 0);
    const all = sum('total');
    const results = new Map<string, number>();
    for (const s of samples) results.set(s.result, (results.get(s.result) ?? 0) + 1);
    console.log(`probe latency over ${runs} runs (create NetworkCheck -> result in status), node diagnostics ${nodeDiagnostics}`);
    console.log(`  p50 ${percentile(totals, 50).toFixed(0)} ms   p95 ${percentile(totals, 95).toFixed(0)} ms   min ${Math.min(...totals).toFixed(0)} ms   max ${Math.max(...totals).toFixed(0)} ms`);
    console.log(`  share: controller+API until the probe pod exists ${(100 * sum('create') / all).toFixed(1)}%, container start ${(100 * sum('start') / all).toFixed(1)}%, probing ${(100 * sum('probe') / all).toFixed(1)}%, result -> status ${(100 * sum('record') / all).toFixed(1)}%`);
    console.log(`  results: ${[...results].map(([r, n]) => `${r} x${n}`).join(', ')}`);
  } finally {
    await cluster.deleteNamespace(namespace, { wait: true });
  }
}

await main();
