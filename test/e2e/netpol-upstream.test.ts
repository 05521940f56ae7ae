// Kubernetes' own e2e NetworkPolicy matrix (test/support/netpol-model.ts), run through NetworkChecks on
// the local cluster's enforcer (NETCHECK_POLICY_ENFORCER): namespaces x, y, z with pods a, b, c (y's pods
// on the second node, so half the pairs cross the overlay), each case's policies applied for real, and
// one check per probed pair with `expect: Reachable` or `Blocked` from upstream's expected matrix.
//
// A check is Healthy only when the enforcer did what upstream expects; and it says whether the operator's
// own evaluator agrees: a blocked pair must be BlockedAsExpected (a policy denies it) and a reachable one
// must carry NetworkPolicyAllows=True. Checks run inside the model pods (`via: Ephemeral`), as upstream's
// suite execs into them: the pods' addresses are long known to the enforcer.
//
// CI probes per step every pair whose expectation differs from the default, plus one allowed pair per
// source pod (pairsToProbe); NETCHECK_NETPOL_FULL_MATRIX=1 probes all 72 non-loopback pairs of every step.
// The time per case is printed (a figure, not an assertion).
import { appendFileSync } from 'node:fs';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { TestCluster, placementOn, sleep, waitFor } from '../support/cluster.ts';
import { ALL_PODS, NAMESPACES, UPSTREAM_CASES, modelPod, pairsToProbe, type ModelWorld, type Pair, type PodString, type Step } from '../support/netpol-model.ts';
import { CheckClient, startClusterOperator } from '../support/operator.ts';

const FULL_MATRIX = process.env.NETCHECK_NETPOL_FULL_MATRIX === '1';
/** How long a changed policy (or label) is given to reach every node's enforcer before probing. */
const SETTLE_MS = 2_000;
const PROBE_TIMEOUT_SECONDS = 1;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe(`upstream's NetworkPolicy e2e matrix through NetworkChecks (${FULL_MATRIX ? 'full matrix' : 'CI pairs'})`, function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let manager: Manager | undefined;
  const world: ModelWorld = { namespace: { x: '', y: '', z: '' }, podIp: {} as Record<PodString, string> };
  const clients = new Map<string, CheckClient>();
  const timings: string[] = [];
  let sequence = 0;
  let secondNode: string | undefined;

  /** Fresh model pods for each case, as upstream's initializeResources makes them: every probe adds an
   *  ephemeral container (with the probe program in its spec) to its source pod, and a pod object has a
   *  size limit (etcd's request limit, 1.5 MiB: "etcdserver: request is too large" after ~15 probes). */
  const createModelPods = async () => {
    await Promise.all(ALL_PODS.map(async (pod) => {
      const manifest = modelPod(pod, cluster.testServerImage);
      // y's pods on the second node: cross-node pairs go through the overlay and two enforcers.
      const placement = pod.startsWith('y/') ? placementOn(secondNode) : {};
      await cluster.core.createNamespacedPod({ namespace: nsOf(pod), body: { ...manifest, spec: { ...manifest.spec!, ...placement } } });
    }));
    for (const pod of ALL_PODS) world.podIp[pod] = (await cluster.waitForPodRunning(nsOf(pod), nameOf(pod), 120_000)).status!.podIP!;
  };

  const deleteModelPods = async () => {
    for (const ns of Object.values(world.namespace)) await cluster.core.deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 });
    await waitFor('the model pods to be gone', async () => {
      for (const ns of Object.values(world.namespace)) if ((await cluster.core.listNamespacedPod({ namespace: ns })).items.length > 0) return false;
      return true;
    }, 60_000, 250);
  };

  const nsOf = (pod: PodString) => world.namespace[pod.split('/')[0] as 'x'];
  const nameOf = (pod: PodString) => pod.split('/')[1];

  before(async function () {
    this.timeout(300_000);
    cluster = await TestCluster.connect();
    const suffix = Math.random().toString(16).slice(2, 6);
    for (const ns of NAMESPACES) {
      world.namespace[ns] = await cluster.createNamespace(`${ns}-${suffix}`).then((name) => name);
      clients.set(world.namespace[ns], new CheckClient(cluster, world.namespace[ns]));
    }
    secondNode = cluster.info!.nodes[1]?.name;
    // Upstream's suite probes every pair from inside the model pods: up to 9 targets per source pod and case, more
    // than the operator's default cap of 5 ephemeral probes per pod (each stays in the pod object), so raise it.
    manager = await startClusterOperator(cluster, Object.values(world.namespace), { maxEphemeralPerPod: 16 });
  });

  after(async function () {
    this.timeout(300_000);
    await manager?.stop();
    console.log(`      enforcer ${cluster?.info?.policyEnforcer}: ${timings.join('; ')}`);
    await Promise.all(Object.values(world.namespace).filter(Boolean).map((ns) => cluster.deleteNamespace(ns, { wait: true })));
  });

  const checkSpec = (pair: Pair, step: Step): NetworkCheckSpec => ({
    source: { pod: nameOf(pair.from), via: 'Ephemeral' },
    destination: { pod: nameOf(pair.to), namespace: nsOf(pair.to), port: step.port },
    protocol: step.protocol,
    expect: pair.expected ? 'Reachable' : 'Blocked',
    timeoutSeconds: PROBE_TIMEOUT_SECONDS,
  });

  /** What is wrong with one pair's check, or undefined when the enforcer and the evaluator both agree with upstream. */
  const verdictProblem = (pair: Pair, step: Step, check: NetworkCheck): string | undefined => {
    const status = check.status!;
    const allows = status.conditions?.find((c) => c.type === 'NetworkPolicyAllows');
    const text = `${pair.from} -> ${pair.to}:${step.port}/${step.protocol} expected ${pair.expected ? 'Reachable' : 'Blocked'}: ${status.result}/${status.failedLayer ?? '-'}/${status.reason}: ${status.summary}`;
    if (status.result !== 'Healthy') return `enforcer disagrees with upstream: ${text}`;
    if (!pair.expected && status.reason !== 'BlockedAsExpected') return `evaluator disagrees with the enforcer: ${text}`;
    if (pair.expected && allows?.status !== 'True') return `evaluator disagrees with the enforcer: ${text} (NetworkPolicyAllows=${allows?.status}/${allows?.reason}: ${allows?.message})`;
    return undefined;
  };

  /** Probes the pairs in rounds with at most one check per source pod in flight (ephemeral containers are
   *  added to the source pod one at a time); returns the problems. */
  const probe = async (caseId: string, stepIndex: number, step: Step, pairs: Pair[]): Promise<string[]> => {
    const bySource = new Map<PodString, Pair[]>();
    for (const pair of pairs) bySource.set(pair.from, [...(bySource.get(pair.from) ?? []), pair]);
    const problems: string[] = [];
    for (let round = 0; [...bySource.values()].some((list) => list.length > round); round++) {
      const batch = [...bySource.values()].map((list) => list[round]).filter((pair): pair is Pair => pair !== undefined);
      await Promise.all(batch.map(async (pair) => {
        const client = clients.get(nsOf(pair.from))!;
        const name = `${caseId}-${stepIndex}-${pair.from.replace('/', '')}-${pair.to.replace('/', '')}-${++sequence}`;
        await client.create(name, checkSpec(pair, step));
        const check = await client.completedRun(name, undefined, 120_000);
        const problem = verdictProblem(pair, step, check);
        if (problem) {
          problems.push(problem);
          if (process.env.NETCHECK_MATRIX_DUMP) appendFileSync(process.env.NETCHECK_MATRIX_DUMP, `${JSON.stringify({ pair, world, check })}\n`);
        }
      }));
    }
    return problems;
  };

  const applyPolicy = async (namespace: string, policy: object & { metadata?: { name?: string } }) => {
    const name = policy.metadata!.name!;
    await cluster.networking.deleteNamespacedNetworkPolicy({ name, namespace }).catch(() => undefined);
    await cluster.networking.createNamespacedNetworkPolicy({ namespace, body: { ...policy, metadata: { ...policy.metadata, namespace } } });
  };

  for (const testCase of UPSTREAM_CASES) {
    it(`${testCase.id}: ${testCase.upstream}`, async () => {
      const started = Date.now();
      let probed = 0;
      try {
        await createModelPods();
        for (const { namespace, policy } of testCase.policies(world)) await applyPolicy(world.namespace[namespace], policy);
        await sleep(SETTLE_MS);
        const problems: string[] = [];
        for (const [index, step] of testCase.steps(world).entries()) {
          if (step.before?.kind === 'replacePolicy') await applyPolicy(world.namespace[step.before.namespace], step.before.policy);
          if (step.before?.kind === 'labelPod') {
            await cluster.core.patchNamespacedPod({ name: nameOf(step.before.pod), namespace: nsOf(step.before.pod), body: { metadata: { labels: step.before.labels } } }, mergePatch);
          }
          if (step.before) await sleep(SETTLE_MS);
          const pairs = pairsToProbe(step, FULL_MATRIX);
          probed += pairs.length;
          problems.push(...(await probe(testCase.id, index + 1, step, pairs)).map((p) => `step ${index + 1}: ${p}`));
        }
        expect(problems, `${problems.length} of ${probed} probed pairs disagree`).to.deep.equal([]);
      } finally {
        timings.push(`${testCase.id} ${probed} pairs ${((Date.now() - started) / 1000).toFixed(0)} s`);
        await cleanUp();
      }
    });
  }

  /** Deletes the case's checks, policies and pods, and gives the enforcers time to forget the policies. */
  const cleanUp = async () => {
    for (const ns of Object.values(world.namespace)) {
      await clients.get(ns)!.custom.deleteCollectionNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace: ns, plural: 'networkchecks' });
      await cluster.networking.deleteCollectionNamespacedNetworkPolicy({ namespace: ns });
    }
    await deleteModelPods();
    await sleep(SETTLE_MS);
  };
});
