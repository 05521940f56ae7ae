// status.path as the operator writes it: for every root cause of the catalogue, the scenario world of
// test/support/cause-worlds.ts goes through the real reconciler and diagnosis, and the stored path must
// hold exactly the hops of the table below - in packet order, with their addresses, their results, the
// policy verdict on their edge and the root cause on the hop the cause is about. Then what the table
// cannot show: one path per vantage with spread: EveryNode, the 40-hop and 16-backend limits (failing
// paths and backends kept first), strings within the schema's lengths, and a run that ends before any
// diagnosis clearing the previous run's path.
import { expect } from 'chai';
import { networkCheckSchema } from '../../operator/api/schema.ts';
import type { NetworkCheckSpec, PathHop } from '../../operator/api/types.generated.ts';
import { Cause } from '../../operator/diagnosis/index.ts';
import { MAX_PATH_HOPS } from '../../operator/diagnosis/path/index.ts';
import { MAX_BACKENDS_PER_PATH } from '../../operator/diagnosis/path/backends.ts';
import { WORLD, buildEndpointSlice, buildNode, buildPod, clusterWorld, endpointsSection, fetchedOk, probeOutput } from '../support/builders.ts';
import { CAUSE_SCENARIOS, checkForCause, recordedDoc } from '../support/cause-worlds.ts';
import { finishedCheck } from '../support/check-status.ts';

/** One hop in one line: kind name @address ~node result, * for the root cause, [the policy edge]. */
function line(hop: PathHop): string {
  const policy = hop.policy ? ` [${hop.policy.direction} ${hop.policy.result} ${hop.policy.text}${hop.policy.policies?.length ? ` ${hop.policy.policies.join(',')}` : ''}]` : '';
  return `${hop.kind} ${hop.name}${hop.address ? ` @${hop.address}` : ''}${hop.node ? ` ~${hop.node}` : ''} ${hop.result}${hop.rootCause ? '*' : ''}${policy}`;
}

const WEB = 'Source pod shop/web @10.244.1.10 ~node-1 Ok [Egress Ok not restricted]';
const WEB_BARE = 'Source pod shop/web @10.244.1.10 ~node-1 Ok';
const DNS = 'DNS backend @10.96.0.10 Ok';
const SVC_OK = 'Service shop/backend @10.96.12.7:8080 Ok';
const SVC_FAILED = 'Service shop/backend @10.96.12.7:8080 Failed';
const PROXY = 'Proxy kube-proxy ~node-1 Ok';
const NEAR = (result: string) => `Backend backend-7d9f-abcde @10.244.1.21:8080 ~node-1 ${result} [Ingress Ok not restricted]`;
const FAR = (result: string) => `Backend backend-7d9f-fghij @10.244.2.22:8080 ~node-2 ${result} [Ingress Ok not restricted]`;

/** The path every catalogue cause's scenario must write. */
const PATHS: Record<string, string[]> = {
  NoEndpoints: [WEB_BARE, DNS, 'Service shop/backend @10.96.12.7:8080 Failed*', PROXY],
  SelectorMismatch: [WEB_BARE, DNS, 'Service shop/backend @10.96.12.7:8080 Failed*', PROXY],
  EndpointsNotReady: [WEB, DNS, 'Service shop/backend @10.96.12.7:8080 Failed*', PROXY],
  PortNotListening: [WEB, DNS, SVC_FAILED, PROXY, NEAR('Failed*')],
  TargetPortMismatch: [WEB, DNS, SVC_FAILED, PROXY, NEAR('Failed*')],
  DNSServerUnavailable: [WEB, 'DNS backend @10.96.0.10 Failed*', SVC_OK, PROXY, NEAR('Ok')],
  DNSEgressBlockedByPolicy: [
    'Source pod shop/web @10.244.1.10 ~node-1 Ok [Egress Ok allowed by egress rule #0 of shop/web-egress]',
    'DNS backend @10.96.0.10 Failed* [Egress Failed DNS denied shop/web-egress]', SVC_OK, PROXY, NEAR('Ok'),
  ],
  DNSSearchPathAmplification: [WEB_BARE, 'DNS api.example.com @10.96.0.10 Warning'],
  NameNotFound: [WEB_BARE, 'DNS billing-api @10.96.0.10 Failed*', 'External billing-api:8080 Unknown'],
  BlockedByNetworkPolicy: [
    WEB, DNS, SVC_FAILED, PROXY,
    'Backend backend-7d9f-abcde @10.244.1.21:8080 ~node-1 Failed* [Ingress Failed denied shop/backend-allow-frontend]',
    'Backend backend-7d9f-fghij @10.244.2.22:8080 ~node-2 Failed* [Ingress Failed denied shop/backend-allow-frontend]',
  ],
  PolicyNotEnforced: [WEB, DNS, SVC_OK, PROXY, 'Backend backend-7d9f-abcde @10.244.1.21:8080 ~node-1 Failed* [Ingress Warning denied by policy, not enforced shop/backend-allow-frontend]'],
  EgressBlocked: [
    'Source pod shop/web @10.244.1.10 ~node-1 Failed* [Egress Failed denied shop/egress-dns-only]',
    'DNS api.partner.example @10.96.0.10 Ok', 'External api.partner.example:443 @198.51.100.7:443 Failed',
  ],
  IPForwardingDisabled: [WEB, DNS, SVC_FAILED, 'Proxy kube-proxy ~node-1 Failed*', 'Backend backend-7d9f-abcde @10.244.1.21:8080 ~node-2 Failed [Ingress Ok not restricted]'],
  ServiceProxyMissing: [WEB, DNS, SVC_FAILED, 'Proxy kube-proxy ~node-1 Failed*', NEAR('Ok')],
  OverlayBroken: [WEB, DNS, SVC_FAILED, PROXY, NEAR('Ok'), FAR('Failed*')],
  MTUMismatch: [WEB, NEAR('Failed*')],
  OverlaySourceAddressMismatch: [
    WEB, DNS, SVC_OK, PROXY, NEAR('Ok'), FAR('Ok'),
    'Source pod shop/web-7f9c-node3 @10.244.3.14 ~node-3 Ok [Egress Ok not restricted]', DNS, SVC_FAILED, 'Proxy kube-proxy ~node-3 Ok',
    NEAR('Failed*'), FAR('Failed*'),
  ],
  LoadBalancerPending: [WEB, DNS, 'Service shop/backend @10.96.12.7:8080 Warning', PROXY, NEAR('Ok')],
  IngressControllerUnavailable: [WEB, 'DNS shop.example.com @10.96.0.10 Ok', 'External shop.example.com @203.0.113.10:80 Failed* [Ingress Ok not subject to policy]'],
  SourceNotReady: ['Source pod shop/web @10.244.1.10 ~node-1 Failed* [Egress Ok not restricted]', DNS, SVC_OK, PROXY, NEAR('Ok')],
  // The probe could not run: every hop Unknown, only the API's names and addresses, no policy verdicts.
  ProbeFailed: [
    'Source pod shop/web @10.244.1.10 ~node-1 Failed*', 'DNS backend Unknown', 'Service shop/backend @10.96.12.7:8080 Unknown',
    'Proxy kube-proxy ~node-1 Unknown', 'Backend backend-7d9f-abcde @10.244.1.21:8080 ~node-1 Unknown',
  ],
};

const HOP_SCHEMA = networkCheckSchema.properties!.status!.properties!.path!.properties!.hops!;

/** Every string of a hop within its schema maxLength, every list within maxItems. */
function withinSchema(hop: PathHop): string[] {
  const fields = HOP_SCHEMA.items!.properties!;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(hop)) {
    const limit = fields[key]?.maxLength;
    if (typeof value === 'string' && limit !== undefined && value.length > limit) problems.push(`${key}: ${value.length} > ${limit}`);
  }
  const policy = fields.policy!.properties!;
  if ((hop.policy?.policies?.length ?? 0) > policy.policies!.maxItems!) problems.push('policy.policies: too many');
  if ((hop.policy?.text?.length ?? 0) > policy.text!.maxLength!) problems.push('policy.text: too long');
  return problems;
}

describe('status.path: the packet path the diagnosis writes', () => {
  it('has a path for every catalogue cause, and the schema and the builder agree on the limits', () => {
    expect(Object.keys(PATHS).sort()).to.deep.equal(Object.keys(CAUSE_SCENARIOS).sort());
    expect(MAX_PATH_HOPS).to.equal(HOP_SCHEMA.maxItems).and.equal(40);
  });

  for (const [cause, expected] of Object.entries(PATHS)) {
    it(`${cause}: ${expected.filter((hop) => hop.includes('*')).map((hop) => hop.split(' ').slice(0, 2).join(' ')).join(', ') || 'no root-cause hop'}`, async () => {
      const check = await checkForCause(cause);
      const hops = check.status?.path?.hops ?? [];
      expect(hops.map(line), check.status?.summary).to.deep.equal(expected);
      expect(hops.flatMap(withinSchema)).to.deep.equal([]);
      expect(check.status?.path?.hopsOmitted).to.equal(undefined);
    });
  }

  it('measures each hop: latencies of what answered, the outcome in words, same node or not', async () => {
    const hops = (await checkForCause(Cause.OverlayBroken)).status!.path!.hops!;
    const [, dns, service, proxy, near, far] = hops;
    expect(dns).to.include({ detail: '-> 10.96.12.7 in 0 ms', latencyMs: 0, layer: 'DNS' });
    expect(service).to.include({ detail: 'timed out after 2013 ms (no answer to SYN)', layer: 'Service' }).and.not.have.property('latencyMs');
    expect(proxy).to.include({ detail: 'kube-proxy-x8s2m Running', layer: 'Node' });
    expect(near).to.include({ sameNode: true, detail: 'connected in 1 ms', latencyMs: 1, layer: 'PodIP' });
    expect(far).to.include({ sameNode: false, rootCause: true, detail: 'timed out after 5001 ms (no answer to SYN)' });
    const endpoints = (await checkForCause(Cause.NoEndpoints)).status!.path!.hops!.find((hop) => hop.kind === 'Service');
    expect(endpoints, 'the Endpoints layer decides a Service without endpoints').to.include({ layer: 'Endpoints', detail: 'NoEndpoints' });
  });

  it('keeps at most 16 backends per path, the failing ones first, and counts the others', async () => {
    const world = clusterWorld();
    const ips = Array.from({ length: 20 }, (_, i) => `10.244.1.${100 + i}`);
    world.backends = ips.map((ip, i) => buildPod(`backend-${i}`, { namespace: WORLD.namespace, labels: { app: 'backend' }, ip, nodeName: 'node-1', ports: [{ containerPort: 8080, name: 'http' }] }));
    world.slices = [buildEndpointSlice('backend', WORLD.namespace, ips.map((ip, i) => ({ ip, nodeName: 'node-1', podName: `backend-${i}` })), [{ port: 8080, name: 'http' }])];
    const failing = new Set([ips[3], ips[17], ips[19]]);
    const doc = recordedDoc('svc-healthy', { endpoints: endpointsSection(ips.map((ip) => ({ ip, port: 8080, status: failing.has(ip) ? 'timeout' : 'ok', ms: 1 }))) });
    const check = await finishedCheck({ world, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } }, outputs: [probeOutput('web-to-backend-g1-x-0', 'node-1', doc)] });
    const backends = check.status!.path!.hops!.filter((hop) => hop.kind === 'Backend');
    expect(backends).to.have.length(MAX_BACKENDS_PER_PATH);
    expect(backends.filter((hop) => hop.result === 'Failed').map((hop) => hop.name)).to.deep.equal(['backend-3', 'backend-17', 'backend-19']);
    expect(backends.map((hop) => hop.name), 'in the EndpointSlice order').to.deep.equal([...ips.keys()].filter((i) => i <= 13 || [17, 19].includes(i)).map((i) => `backend-${i}`));
    expect(check.status!.path!.hopsOmitted).to.equal(4);
  });

  it('spread: EveryNode draws one path per vantage; past 40 hops the failing path stays and the others are counted', async () => {
    const world = clusterWorld();
    const nodes = Array.from({ length: 10 }, (_, i) => `node-${i + 1}`);
    world.nodes = nodes.map((node, i) => buildNode(node, { internalIP: `172.18.0.${i + 2}`, podCIDR: `10.245.${i}.0/24` }));
    const webs = nodes.map((node, i) => buildPod(`web-${i}`, { namespace: WORLD.namespace, labels: { app: 'web' }, ip: `10.245.${i}.10`, nodeName: node }));
    [world.web] = webs;
    world.otherPods = webs.slice(1);
    const healthy = recordedDoc('svc-healthy', { endpoints: endpointsSection(WORLD.backendIPs.map((ip) => ({ ip, port: 8080, status: 'ok', ms: 1 }))) });
    const lost = recordedDoc('svc-dropped', { endpoints: endpointsSection(WORLD.backendIPs.map((ip) => ({ ip, port: 8080, status: 'timeout' }))) });
    const outputs = nodes.map((node, i) => probeOutput(`web-to-backend-g1-x-${i}`, node, i === 8 ? lost : healthy));
    const spec: NetworkCheckSpec = { source: { podSelector: { matchLabels: { app: 'web' } }, spread: 'EveryNode' }, destination: { service: 'backend', port: 8080 } };
    const check = await finishedCheck({ world, spec, outputs, evidence: { sourcePods: fetchedOk(webs) } });
    const hops = check.status!.path!.hops!;
    expect(hops.length).to.be.at.most(MAX_PATH_HOPS);
    const sources = hops.filter((hop) => hop.kind === 'Source');
    expect(sources.map((hop) => `${hop.name} ~${hop.node}`), 'whole paths in vantage order, the failing one kept').to.deep.equal(
      [0, 1, 2, 3, 4, 8].map((i) => `pod shop/web-${i} ~node-${i + 1}`));
    expect(check.status!.path!.hopsOmitted, '4 healthy paths of 6 hops left out').to.equal(24);
    const marked = hops.filter((hop) => hop.rootCause);
    expect(marked.length, check.status?.summary).to.be.greaterThan(0);
    const failingPath = hops.slice(hops.indexOf(sources[5]));
    for (const hop of marked) expect(failingPath, 'only the failing vantage carries the root cause').to.include(hop);
  });

  it('clips a long name to the schema (a new pod with many labels)', async () => {
    const world = clusterWorld();
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label-${i}`, 'v'.repeat(63)]));
    const check = await finishedCheck({ world, spec: { source: { newPod: { labels } }, destination: { service: 'backend', port: 8080 } }, outputs: [probeOutput('web-to-backend-g1-x-0', 'node-1', recordedDoc('svc-healthy'))] });
    const source = check.status!.path!.hops![0];
    expect(source.name).to.match(/^new pod label-0=v+,label-1=/);
    expect(source.name).to.have.length(HOP_SCHEMA.items!.properties!.name!.maxLength!).and.match(/…$/);
    expect(check.status!.path!.hops!.flatMap(withinSchema)).to.deep.equal([]);
  });

  it('a run that ends before any diagnosis (its probe pods failed) leaves no path of the run before it', async () => {
    const world = clusterWorld();
    const input = { world, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } }, outputs: [probeOutput('web-to-backend-g1-x-0', 'node-1', recordedDoc('svc-healthy'))] };
    expect((await finishedCheck(input)).status?.path?.hops?.length, 'the first run wrote a path').to.be.greaterThan(0);
    const after = await finishedCheck({ ...input, thenProbePodsFail: true });
    expect(after.status).to.include({ result: 'Error', failedLayer: 'Probe' });
    expect(after.status).to.not.have.property('path');
  });
});
