// The ladder's details beyond the scenario table: how probe documents are read (errors, several
// probe pods, truncation), the condition shape, and the hints a message carries.
import { expect } from 'chai';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { Cause, HealthyReason, LayerReason } from '../../operator/diagnosis/reasons.ts';
import { analyze, LADDER, LayerCondition } from '../../operator/diagnosis/layers/index.ts';
import {
  WORLD,
  buildNetworkCheck,
  buildPod,
  clusterResolv,
  clusterWorld,
  connectResult,
  diagnosisInput,
  endpointsSection,
  fetchedOk,
  mtuResult,
  probeDoc,
  probeOutput,
  simulateLookup,
  worldEvidence,
} from '../support/builders.ts';
import type { ProbeOutput } from '../../operator/probe/stage.ts';
import type { ConnectStatus } from '../../operator/probe/result.ts';

const RESOLV = clusterResolv('shop');

function doc(connect: ConnectStatus, endpoints: ConnectStatus[] = ['ok', 'ok'], extra: Partial<Parameters<typeof probeDoc>[0]> = {}) {
  return probeDoc({
    proto: 'TCP',
    target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 },
    resolv: RESOLV,
    dns: simulateLookup('backend', RESOLV, { 'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: [WORLD.clusterIP] } }),
    connect: connectResult(WORLD.clusterIP, 8080, connect),
    endpoints: endpointsSection(endpoints.map((status, i) => ({ ip: WORLD.backendIPs[i], port: 8080, status }))),
    mtu: mtuResult(WORLD.backendIPs[0], 'ok'),
    ...extra,
  });
}

function verdictFor(outputs: ProbeOutput[], options: { generation?: number; sourcePods?: ReturnType<typeof clusterWorld>['web'][]; spec?: Parameters<typeof buildNetworkCheck>[2] } = {}) {
  const world = clusterWorld();
  const check = buildNetworkCheck('web-to-backend', 'shop', options.spec ?? { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } }, options.generation ?? 1);
  const sourcePods = options.sourcePods ?? [world.web];
  const input = diagnosisInput(check, { sourcePods, destinationService: world.service, destinationPods: world.backends }, outputs);
  return diagnoseFromEvidence(worldEvidence(world, { sourcePods: fetchedOk(sourcePods) }), input);
}

describe('diagnosis ladder details', () => {
  it('an Error ProbeFailed when no probe pod reported anything', () => {
    const verdict = verdictFor([]);
    expect(verdict.result).to.equal('Error');
    expect(verdict.reason).to.equal(Cause.ProbeFailed);
    expect(verdict.summary).to.include('no probe pod reported a result');
    expect(verdict.layers.every((c) => c.status === 'Unknown' && c.reason === LayerReason.ProbeFailed)).to.equal(true);
  });

  it('harmless probe errors (an unknown parameter, an MTU probe cut by the watchdog) are not failures', () => {
    const output = doc('ok', ['ok', 'ok'], {
      mtu: undefined,
      errors: [
        { code: 'UnknownParameter', param: 'NETCHECK_FUTURE_FLAG', msg: 'unknown parameter ignored' },
        { code: 'ProbeTimeout', probe: 'mtu', msg: 'probe stopped at the run deadline' },
      ],
    });
    const verdict = verdictFor([probeOutput(WORLD.probePod, 'node-1', output)]);
    expect(verdict.result).to.equal('Healthy');
    expect(verdict.reason).to.equal(HealthyReason.Reachable);
  });

  it('conditions carry the check generation, follow the ladder order and stay within the size limits', () => {
    const verdict = verdictFor([probeOutput(WORLD.probePod, 'node-1', doc('ok'))], { generation: 7 });
    expect(verdict.layers.map((c) => c.type)).to.deep.equal(LADDER.map((layer) => LayerCondition[layer]));
    for (const condition of verdict.layers) expect(condition.observedGeneration).to.equal(7);
  });

  it('with one probe per node (spread: EveryNode) the failing node is named and the working one is evidence', () => {
    const world = clusterWorld();
    const web2 = buildPod('web-2', { namespace: 'shop', labels: { app: 'web' }, ip: '10.244.2.10', nodeName: 'node-2' });
    const outputs = [probeOutput('p-0', 'node-1', doc('ok')), probeOutput('p-1', 'node-2', doc('timeout', ['ok', 'ok']))];
    const verdict = verdictFor(outputs, { sourcePods: [world.web, web2], spec: { source: { podSelector: { matchLabels: { app: 'web' } }, spread: 'EveryNode' }, destination: { service: 'backend', port: 8080 } } });
    expect(verdict.reason).to.equal(Cause.ServiceProxyMissing);
    expect(verdict.summary).to.include('pod shop/web-2 on node node-2');
    expect(verdict.summary).to.include('on node node-2');
    expect(verdict.summary).to.include('kube-proxy pod kube-proxy-q4l9v is Running on node node-2');
  });

  it('a truncated document (endpoint list cut, failed ones kept) is still read', () => {
    const output = doc('timeout', ['timeout', 'ok']);
    const truncated = { ...output, truncated: true, endpoints: { total: 2, ok: 1, items: output.endpoints!.items.filter((item) => item.status !== 'ok') } };
    const verdict = verdictFor([probeOutput(WORLD.probePod, 'node-1', truncated)]);
    expect(verdict.result).to.equal('Unhealthy');
    expect(verdict.summary).to.include('10.244.1.21:8080');
  });

  it('NXDOMAIN from a pod with dnsPolicy Default says the pod does not ask the cluster DNS', () => {
    const world = clusterWorld();
    const web = buildPod('web', { namespace: 'shop', labels: { app: 'web' }, ip: WORLD.sourceIP, nodeName: 'node-1', dnsPolicy: 'Default' });
    const nodeResolv = { ns: ['172.18.0.1'], search: [], ndots: 1, timeout: 5, attempts: 2 };
    const output = probeDoc({ proto: 'TCP', target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 }, resolv: nodeResolv, dns: simulateLookup('backend', nodeResolv, {}), connect: connectResult(WORLD.clusterIP, 8080, 'ok'), endpoints: endpointsSection([{ ip: WORLD.backendIPs[0], port: 8080, status: 'ok' }]) });
    const check = buildNetworkCheck('web-to-backend', 'shop', { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
    const input = diagnosisInput(check, { sourcePods: [web], destinationService: world.service, destinationPods: world.backends }, [probeOutput(WORLD.probePod, 'node-1', output)]);
    const verdict = diagnoseFromEvidence(worldEvidence(world, { sourcePods: fetchedOk([web]) }), input);
    expect(verdict.reason).to.equal(Cause.NameNotFound);
    expect(verdict.summary).to.include('dnsPolicy Default');
    expect(verdict.summary).to.include('set dnsPolicy ClusterFirst');
  });

  it('the analysis keeps the structured facts: same-node and cross-node outcomes by the endpoints\' nodes', () => {
    const world = clusterWorld();
    const check = buildNetworkCheck('web-to-backend', 'shop', { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
    const input = diagnosisInput(check, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, [probeOutput(WORLD.probePod, 'node-1', doc('timeout', ['ok', 'timeout']))]);
    const analysis = analyze(worldEvidence(world), input);
    expect(analysis.cni.sameNodeOk.map((o) => o.ip)).to.deep.equal(['10.244.1.21']);
    expect(analysis.cni.crossNodeFailed.map((o) => `${o.ip}@${o.node}`)).to.deep.equal(['10.244.2.22@node-2']);
    expect(analysis.cni.overlaySuspect).to.equal(true);
    expect(analysis.endpoints.backends.map((b) => b.port)).to.deep.equal([8080, 8080]);
    expect(analysis.policy.flows).to.have.length(2);
  });

  it('uses the operator\'s probe image in reproduce commands, never the check\'s spec.probe.image', () => {
    const world = clusterWorld();
    const output = probeOutput(WORLD.probePod, 'node-1', doc('refused', ['refused', 'refused']));
    const run = (image?: string, operatorImage?: string) => {
      const check = buildNetworkCheck('c', 'shop', { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 }, ...(image ? { probe: { image } } : {}) });
      const input = diagnosisInput(check, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, [output]);
      return diagnoseFromEvidence(worldEvidence(world), input, { probeImage: operatorImage }).reproduce.join('\n');
    };
    expect(run()).to.include('--image=docker.io/nicolaka/netshoot:v0.14');
    expect(run(undefined, 'registry.local/netshoot:dev')).to.include('--image=registry.local/netshoot:dev');
    // An admin pastes these commands, some on a node with --profile=sysadmin: the tenant's image must not appear.
    expect(run('registry.local/netshoot:mine', 'registry.local/netshoot:dev')).to.include('--image=registry.local/netshoot:dev');
    expect(run('registry.local/netshoot:mine', 'registry.local/netshoot:dev')).to.not.include('netshoot:mine');
    expect(run('registry.local/netshoot:mine')).to.include('--image=docker.io/nicolaka/netshoot:v0.14');
  });
});
