// Real probe documents, recorded by running operator/probe/netcheck-probe.sh in network namespaces
// with real faults (test/fixtures/evidence/record-probe-docs.sh: iptables DROP/REJECT, a lowered MTU,
// a router sending frag-needed, a stopped server, ip_forward=0). They keep the builders honest (the
// simulated DNS sections must match what the probe really writes) and run through the diagnosis
// with the API evidence of a matching cluster.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Evidence } from '../../operator/diagnosis/evidence.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { Cause, HealthyReason } from '../../operator/diagnosis/reasons.ts';
import { Layer, LayerCondition } from '../../operator/diagnosis/layers/index.ts';
import { parseProbeResult, type DnsResult, type ProbeResult } from '../../operator/probe/result.ts';
import {
  WORLD,
  buildEndpointSlice,
  buildNetworkCheck,
  buildNetworkPolicy,
  buildPod,
  buildService,
  clusterWorld,
  diagnosisInput,
  egressRule,
  fetchedOk,
  ingressRule,
  peer,
  policyPort,
  probeOutput,
  servicePort,
  simulateLookup,
  worldEvidence,
  type ClusterWorld,
  type ZoneAnswer,
} from '../support/builders.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/evidence/probe/', import.meta.url));

function recorded(name: string): ProbeResult {
  const parsed = parseProbeResult(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.error}`);
  return parsed.result;
}

/** The recordings' cluster: one backend 10.244.1.21 behind ClusterIP 10.96.12.7. */
function recordedWorld(backendNode = 'node-1'): ClusterWorld {
  const world = clusterWorld();
  world.backends = [buildPod('backend-7d9f-abcde', { namespace: 'shop', labels: { app: 'backend' }, ip: '10.244.1.21', nodeName: backendNode, ports: [{ containerPort: 8080, name: 'http' }] })];
  world.slices = [buildEndpointSlice('backend', 'shop', [{ ip: '10.244.1.21', nodeName: backendNode, podName: 'backend-7d9f-abcde' }], [{ port: 8080, name: 'http' }])];
  return world;
}

const serviceSpec = (extra: Partial<NetworkCheckSpec> = {}): NetworkCheckSpec => ({ source: { pod: 'web' }, destination: { service: 'backend', port: 8080 }, ...extra });

function diagnose(world: ClusterWorld, spec: NetworkCheckSpec, docs: { name: string; node?: string }[], evidence: Partial<Evidence> = {}) {
  const check = buildNetworkCheck('recorded', 'shop', spec);
  const outputs = docs.map((doc, index) => probeOutput(`recorded-g1-abc-${index}`, doc.node ?? 'node-1', recorded(doc.name)));
  const service = spec.destination.service ? world.service : undefined;
  const destinationPods = spec.destination.service ? world.backends : spec.destination.pod ? world.backends.filter((p) => p.metadata?.name === spec.destination.pod) : [];
  const input = diagnosisInput(check, { sourcePods: [world.web], ...(service ? { destinationService: service } : {}), destinationPods }, outputs);
  const base: Partial<Evidence> = spec.destination.service ? {} : { service: undefined, endpointSlices: undefined, backendPods: fetchedOk(destinationPods) };
  return diagnoseFromEvidence(worldEvidence(world, { ...base, ...evidence }), input);
}

describe('diagnosis on recorded probe documents', () => {
  it('every recorded document passes the strict parser', () => {
    const files = readdirSync(FIXTURES).filter((file) => file.endsWith('.json'));
    expect(files.length).to.be.at.least(11);
    for (const file of files) {
      const parsed = parseProbeResult(readFileSync(join(FIXTURES, file), 'utf8'));
      expect(parsed.ok, `${file}: ${parsed.ok ? '' : parsed.error}`).to.equal(true);
    }
  });

  describe('simulateLookup reproduces the dns section the probe really writes', () => {
    const zone: Record<string, ZoneAnswer> = {
      'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: ['10.96.12.7'] },
      'api.example.com.': { result: 'NOERROR', answers: ['198.51.100.20'] },
    };
    const withoutTimes = (dns: DnsResult) => ({ ...dns, ms: 0, tries: dns.tries.map((t) => ({ ...t, ms: 0 })) });
    const cases: [string, Record<string, ZoneAnswer>][] = [
      ['svc-healthy', zone],
      ['dns-external-amplified', zone],
      ['dns-nxdomain', zone],
      ['svc-dns-timeout', { 'backend.shop.svc.cluster.local.': { result: 'timeout' } }],
      ['svc-dns-unreachable', { 'backend.shop.svc.cluster.local.': { result: 'unreachable' } }],
    ];
    for (const [name, answers] of cases) {
      it(name, () => {
        const doc = recorded(name);
        const simulated = simulateLookup(doc.dns!.name, doc.resolv!, answers);
        expect(withoutTimes(simulated)).to.deep.equal(withoutTimes(doc.dns!));
      });
    }
  });

  const rows: { name: string; verdict: () => ReturnType<typeof diagnose>; result: string; reason: string; failedLayer?: string }[] = [
    { name: 'svc-healthy', verdict: () => diagnose(recordedWorld(), serviceSpec(), [{ name: 'svc-healthy' }]), result: 'Healthy', reason: HealthyReason.Reachable },
    {
      name: 'svc-dns-timeout under an egress policy without DNS',
      verdict: () => {
        const world = recordedWorld();
        world.policies = [buildNetworkPolicy('web-egress', 'shop', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [egressRule({ to: [peer.pods({ app: 'backend' })], ports: [policyPort.tcp(8080)] })] })];
        return diagnose(world, serviceSpec(), [{ name: 'svc-dns-timeout' }]);
      },
      result: 'Unhealthy',
      reason: Cause.DNSEgressBlockedByPolicy,
      failedLayer: Layer.NetworkPolicy,
    },
    { name: 'svc-dns-timeout with healthy CoreDNS and no policy', verdict: () => diagnose(recordedWorld(), serviceSpec(), [{ name: 'svc-dns-timeout' }]), result: 'Unhealthy', reason: Cause.DNSTimeout, failedLayer: Layer.DNS },
    {
      name: 'svc-dns-unreachable with CoreDNS scaled to 0',
      verdict: () => {
        const world = recordedWorld();
        world.dnsPods = [];
        world.dnsSlices = [buildEndpointSlice('kube-dns', 'kube-system', [])];
        return diagnose(world, serviceSpec(), [{ name: 'svc-dns-unreachable' }]);
      },
      result: 'Unhealthy',
      reason: Cause.DNSServerUnavailable,
      failedLayer: Layer.DNS,
    },
    {
      name: 'svc-dropped with a policy admitting only app=frontend',
      verdict: () => {
        const world = recordedWorld();
        world.policies = [buildNetworkPolicy('backend-allow-frontend', 'shop', { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [ingressRule({ from: [peer.pods({ app: 'frontend' })], ports: [policyPort.tcp(8080)] })] })];
        return diagnose(world, serviceSpec(), [{ name: 'svc-dropped' }]);
      },
      result: 'Unhealthy',
      reason: Cause.BlockedByNetworkPolicy,
      failedLayer: Layer.NetworkPolicy,
    },
    {
      name: 'svc-dropped, expect: Blocked, with that policy',
      verdict: () => {
        const world = recordedWorld();
        world.policies = [buildNetworkPolicy('backend-allow-frontend', 'shop', { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [ingressRule({ from: [peer.pods({ app: 'frontend' })], ports: [policyPort.tcp(8080)] })] })];
        return diagnose(world, serviceSpec({ expect: 'Blocked' }), [{ name: 'svc-dropped' }]);
      },
      result: 'Healthy',
      reason: HealthyReason.BlockedAsExpected,
    },
    {
      name: 'svc-healthy, expect: Blocked, with no policy',
      verdict: () => diagnose(recordedWorld(), serviceSpec({ expect: 'Blocked' }), [{ name: 'svc-healthy' }]),
      result: 'Unhealthy',
      reason: Cause.NoPolicyIsolates,
      failedLayer: Layer.NetworkPolicy,
    },
    {
      name: 'svc-dropped to a backend on another node, the node probe saw ip_forward=0',
      verdict: () => diagnose(recordedWorld('node-2'), serviceSpec(), [{ name: 'svc-dropped' }, { name: 'node-ipforward-off', node: 'node-1' }]),
      result: 'Unhealthy',
      reason: Cause.IPForwardingDisabled,
      failedLayer: Layer.Node,
    },
    {
      name: 'svc-dropped on the same node with nothing to explain it',
      verdict: () => diagnose(recordedWorld(), serviceSpec(), [{ name: 'svc-dropped' }]),
      result: 'Unhealthy',
      reason: Cause.PodUnreachable,
      failedLayer: Layer.PodIP,
    },
    { name: 'svc-clusterip-dropped', verdict: () => diagnose(recordedWorld(), serviceSpec(), [{ name: 'svc-clusterip-dropped' }]), result: 'Unhealthy', reason: Cause.ServiceProxyMissing, failedLayer: Layer.Service },
    { name: 'svc-refused', verdict: () => diagnose(recordedWorld(), serviceSpec(), [{ name: 'svc-refused' }]), result: 'Unhealthy', reason: Cause.PortNotListening, failedLayer: Layer.PodIP },
    {
      name: 'svc-refused where the container declares 9090, not the targetPort 8080',
      verdict: () => {
        const world = recordedWorld();
        world.backends = [buildPod('backend-7d9f-abcde', { namespace: 'shop', labels: { app: 'backend' }, ip: '10.244.1.21', nodeName: 'node-1', ports: [{ containerPort: 9090, name: 'http' }] })];
        world.service = buildService('backend', 'shop', { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 8080)] });
        world.slices = [buildEndpointSlice('backend', 'shop', [{ ip: '10.244.1.21', nodeName: 'node-1' }], [{ port: 8080 }])];
        return diagnose(world, serviceSpec(), [{ name: 'svc-refused' }]);
      },
      result: 'Unhealthy',
      reason: Cause.TargetPortMismatch,
      failedLayer: Layer.PodIP,
    },
    {
      name: 'pod-mtu-blackhole (destination MTU lowered to 1400; HTTP itself still works)',
      verdict: () => diagnose(recordedWorld(), { source: { pod: 'web' }, destination: { pod: 'backend-7d9f-abcde', port: 8080 }, protocol: 'HTTP' }, [{ name: 'pod-mtu-blackhole' }]),
      result: 'Unhealthy',
      reason: Cause.MTUMismatch,
      failedLayer: Layer.MTU,
    },
    {
      name: 'pod-mtu-fragneeded (a router on the path with MTU 1450: PMTU discovery works, a warning)',
      verdict: () => {
        const world = recordedWorld();
        world.backends = [buildPod('far-0', { namespace: 'shop', labels: { app: 'far' }, ip: '10.244.2.22', nodeName: 'node-2', ports: [{ containerPort: 8080 }] })];
        return diagnose(world, { source: { pod: 'web' }, destination: { pod: 'far-0', port: 8080 } }, [{ name: 'pod-mtu-fragneeded' }]);
      },
      result: 'Healthy',
      reason: Cause.MTUMismatch,
    },
    {
      name: 'dns-nxdomain',
      verdict: () => diagnose(recordedWorld(), { source: { pod: 'web' }, destination: { host: 'billing-api', port: 8080 } }, [{ name: 'dns-nxdomain' }]),
      result: 'Unhealthy',
      reason: Cause.NameNotFound,
      failedLayer: Layer.DNS,
    },
    {
      name: 'dns-external-amplified',
      verdict: () => diagnose(recordedWorld(), { source: { pod: 'web' }, destination: { host: 'api.example.com' }, protocol: 'DNS' }, [{ name: 'dns-external-amplified' }]),
      result: 'Healthy',
      reason: Cause.DNSSearchPathAmplification,
    },
  ];

  for (const row of rows) {
    it(`${row.name} -> ${row.result}/${row.failedLayer ?? '-'}/${row.reason}`, () => {
      const verdict = row.verdict();
      const context = `\n${verdict.summary}\n${verdict.layers.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ')}`;
      expect(verdict.result, context).to.equal(row.result);
      expect(verdict.reason, context).to.equal(row.reason);
      expect(verdict.failedLayer, context).to.equal(row.failedLayer);
      if (row.failedLayer) expect(verdict.layers.find((c) => c.type === LayerCondition[row.failedLayer as keyof typeof LayerCondition])?.reason).to.equal(row.reason);
    });
  }

  it('evidence and inputs are plain JSON: a serialised copy replays to the same verdict', () => {
    const world = recordedWorld('node-2');
    const check = buildNetworkCheck('recorded', 'shop', serviceSpec());
    const input = diagnosisInput(check, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, [
      probeOutput('recorded-g1-abc-0', 'node-1', recorded('svc-dropped')),
      probeOutput('recorded-g1-abc-1', 'node-1', recorded('node-ipforward-off')),
    ]);
    const evidence = worldEvidence(world);
    const direct = diagnoseFromEvidence(evidence, input);
    const replayed = diagnoseFromEvidence(JSON.parse(JSON.stringify(evidence)), JSON.parse(JSON.stringify(input)));
    expect(replayed).to.deep.equal(direct);
    expect(direct.reason).to.equal(Cause.IPForwardingDisabled);
  });
});
