// The operator's NetworkPolicy evaluator (operator/diagnosis/netpol/) against the expected matrices of
// Kubernetes' own e2e NetworkPolicy suite (test/support/netpol-model.ts): every ordered pair of the nine
// model pods, every step of every case. The e2e suite (test/e2e/netpol-upstream.test.ts) checks the same
// matrices against the real enforcers, on the pairs it probes.
import { expect } from 'chai';
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { evaluateFlow } from '../../operator/diagnosis/netpol/evaluate.ts';
import { podEndpoint } from '../../operator/diagnosis/netpol/model.ts';
import { ALL_PODS, NAMESPACES, NAMESPACE_NAME_LABEL, UPSTREAM_CASES, modelPod, pairsToProbe, type ModelWorld, type PodString } from '../support/netpol-model.ts';

const world: ModelWorld = {
  namespace: { x: 'x-7f3a', y: 'y-7f3a', z: 'z-7f3a' },
  podIp: Object.fromEntries(ALL_PODS.map((pod, index) => [pod, `10.244.${Math.floor(index / 3)}.${10 + (index % 3)}`])) as Record<PodString, string>,
};

function pods(labels: Partial<Record<PodString, Record<string, string>>>): Map<PodString, V1Pod> {
  return new Map(ALL_PODS.map((pod) => {
    const base = modelPod(pod, 'testserver', labels[pod]);
    const namespace = world.namespace[pod.split('/')[0] as 'x'];
    return [pod, { ...base, metadata: { ...base.metadata, namespace, labels: { ...base.metadata!.labels, ...labels[pod] } }, status: { podIP: world.podIp[pod], phase: 'Running' } }];
  }));
}

const namespaces: V1Namespace[] = NAMESPACES.map((ns) => ({ metadata: { name: world.namespace[ns], labels: { [NAMESPACE_NAME_LABEL]: world.namespace[ns] } } }));

describe('the operator\'s NetworkPolicy evaluator on upstream\'s e2e matrices (x/y/z, a/b/c)', () => {
  for (const testCase of UPSTREAM_CASES) {
    it(`${testCase.id}: ${testCase.upstream}`, () => {
      let policies: V1NetworkPolicy[] = testCase.policies(world).map(({ namespace, policy }) => ({ ...policy, metadata: { ...policy.metadata, namespace: world.namespace[namespace] } }));
      const labels: Partial<Record<PodString, Record<string, string>>> = {};
      const mismatches: string[] = [];
      testCase.steps(world).forEach((step, index) => {
        const change = step.before;
        if (change?.kind === 'replacePolicy') {
          const namespace = world.namespace[change.namespace];
          policies = [...policies.filter((p) => !(p.metadata?.name === change.policy.metadata?.name && p.metadata?.namespace === namespace)), { ...change.policy, metadata: { ...change.policy.metadata, namespace } }];
        }
        if (change?.kind === 'labelPod') labels[change.pod] = change.labels;
        const model = pods(labels);
        for (const { from, to, expected } of pairsToProbe(step, true)) {
          const source = model.get(from)!;
          const destination = model.get(to)!;
          const verdict = evaluateFlow({
            source: podEndpoint(source, namespaces.find((n) => n.metadata?.name === source.metadata?.namespace)),
            destination: podEndpoint(destination, namespaces.find((n) => n.metadata?.name === destination.metadata?.namespace)),
            port: step.port,
            protocol: step.protocol,
          }, { policies, namespaces });
          if (verdict.allowed !== expected) mismatches.push(`step ${index + 1} ${from} -> ${to}:${step.port}/${step.protocol}: expected ${expected ? 'reachable' : 'blocked'}, evaluator says ${verdict.message}`);
        }
      });
      expect(mismatches).to.deep.equal([]);
    });
  }

  it('probes in CI every pair that differs from the default, plus one allowed pair per source pod', () => {
    const step = UPSTREAM_CASES.find((c) => c.id === 'and')!.steps(world)[0];
    const pairs = pairsToProbe(step, false);
    const blocked = pairs.filter((pair) => !pair.expected).map((pair) => `${pair.from}>${pair.to}`);
    expect(blocked).to.deep.equal(['x/b>x/a', 'x/c>x/a', 'y/a>x/a', 'y/c>x/a', 'z/a>x/a', 'z/c>x/a']);
    for (const from of ALL_PODS) expect(pairs.some((pair) => pair.from === from && pair.expected), `an allowed pair from ${from}`).to.equal(true);
    expect(pairs.every((pair) => pair.from !== pair.to)).to.equal(true);
    expect(pairsToProbe(step, true)).to.have.length(72);
  });
});
