// A finished check's status as the operator really writes it: the real NetworkCheckReconciler (on a
// fake clock, over an in-memory store) records a run, "runs" it with the given probe documents, and
// diagnoses them with the real diagnosis against the API evidence of a ClusterWorld. Tests of what
// reads status (the kubectl plugin's renderers) start from this instead of hand-written statuses.
import type { NetworkCheck, NetworkCheckSpec, NetworkCheckStatus } from '../../operator/api/types.generated.ts';
import { FakeClock } from '../../operator/controller/clock.ts';
import { NetworkCheckReconciler, type Caches } from '../../operator/controller/networkcheck.ts';
import type { Evidence } from '../../operator/diagnosis/evidence.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { silentLogger } from '../../operator/log.ts';
import type { ProbeOutput, ProbeStage } from '../../operator/probe/stage.ts';
import { buildNetworkCheck, worldEvidence, type ClusterWorld } from './builders.ts';

export interface RunInput {
  world: ClusterWorld;
  spec: NetworkCheckSpec;
  /** The probe documents the run's pods print (probeOutput(...)). */
  outputs: ProbeOutput[];
  /** Evidence that differs from what the world implies (e.g. a source pod that stopped during the run). */
  evidence?: Partial<Evidence>;
  name?: string;
  /** When the run starts (the status's times follow it). */
  start?: string;
  /** Then edit the spec and run again, this time with probe pods that fail before any result. */
  thenProbePodsFail?: boolean;
}

function worldCaches(world: ClusterWorld, store: Map<string, NetworkCheck>): Caches {
  const pods = () => [world.web, ...world.backends, ...world.otherPods];
  return {
    check: (key) => store.get(key),
    pod: (namespace, name) => pods().find((pod) => pod.metadata?.namespace === namespace && pod.metadata?.name === name),
    pods: (namespace) => pods().filter((pod) => pod.metadata?.namespace === namespace),
    service: (namespace, name) => (world.service.metadata?.namespace === namespace && world.service.metadata?.name === name ? world.service : undefined),
  };
}

/** Runs one check to completion through the real reconciler; returns the stored check. */
export async function finishedCheck(input: RunInput): Promise<NetworkCheck> {
  const clock = new FakeClock(Date.parse(input.start ?? '2026-11-21T08:09:39Z'));
  const check = buildNetworkCheck(input.name ?? 'web-to-backend', input.world.web.metadata?.namespace ?? 'shop', input.spec);
  check.metadata = { ...check.metadata, uid: 'b1c0ffee-0000-4000-8000-000000000001', resourceVersion: '1', creationTimestamp: new Date(clock.now()) };
  const key = `${check.metadata.namespace}/${check.metadata.name}`;
  const store = new Map([[key, check]]);
  let done = false;
  let failing = false;
  const pods = input.outputs.map((output) => output.pod);
  const stage: ProbeStage = {
    start: async () => pods,
    observe: async () => (done ? { state: 'NotFound' } : failing ? { state: 'Failed', pods, reason: 'ProbeFailed', message: 'probe pod failed' } : { state: 'Completed', pods, outputs: input.outputs }),
    cleanup: async () => { done = true; },
  };
  let version = 1;
  const reconciler = new NetworkCheckReconciler({
    caches: worldCaches(input.world, store),
    writer: {
      writeStatus: async (stored: NetworkCheck, status: NetworkCheckStatus) => {
        const updated = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++version) }, status };
        store.set(key, updated);
        return updated;
      },
    },
    stage,
    diagnose: (diagnosis) => diagnoseFromEvidence(worldEvidence(input.world, input.evidence), diagnosis),
    clock,
    log: silentLogger(),
    nodeSourceNamespaces: new Set([check.metadata.namespace!]),
  });
  const run = async () => {
    await reconciler.reconcile(key);
    clock.advance(3_000);
    await reconciler.reconcile(key);
  };
  await run();
  if (input.thenProbePodsFail) {
    const first = store.get(key)!;
    store.set(key, { ...first, metadata: { ...first.metadata, generation: (first.metadata?.generation ?? 1) + 1 } });
    [done, failing] = [false, true];
    await run();
  }
  const finished = store.get(key)!;
  if (!finished.status?.lastRun?.completionTime) throw new Error(`the run did not complete: ${JSON.stringify(finished.status)}`);
  return finished;
}
