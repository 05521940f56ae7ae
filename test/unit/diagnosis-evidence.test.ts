// The evidence collector: what it reads, how it survives forbidden/failed/hanging reads, and that the
// real @kubernetes/client-node reader sends the API requests we think it does (against a local HTTP
// server speaking the Kubernetes API's JSON, so the client code itself runs).
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1EndpointSlice, type V1Ingress, type V1Namespace, type V1NetworkPolicy, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import {
  EVIDENCE_RBAC_RULES,
  collectEvidence,
  describeApiError,
  ingressHostMatches,
  kubeEvidenceReader,
  type EvidenceReader,
} from '../../operator/diagnosis/evidence.ts';
import { createDiagnose } from '../../operator/diagnosis/index.ts';
import { Cause, HealthyReason, LayerReason } from '../../operator/diagnosis/reasons.ts';
import { LayerCondition } from '../../operator/diagnosis/layers/index.ts';
import { matchesLabelSelector } from '../../operator/diagnosis/labels.ts';
import {
  WORLD,
  buildIngress,
  buildNetworkCheck,
  buildNetworkPolicy,
  buildPod,
  clusterResolv,
  clusterWorld,
  connectResult,
  diagnosisInput,
  endpointsSection,
  mtuResult,
  probeDoc,
  probeOutput,
  simulateLookup,
  type ClusterWorld,
} from '../support/builders.ts';

// --- An in-memory API ---------------------------------------------------------------------------------

/** "a=b,c in (d,e)" -> a LabelSelector (the two forms the collector uses). */
function parseSelector(text: string) {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: { key: string; operator: 'In'; values: string[] }[] = [];
  for (const part of text.match(/[^,()]+ in \([^)]*\)|[^,]+/g) ?? []) {
    const inMatch = /^(\S+) in \(([^)]*)\)$/.exec(part.trim());
    if (inMatch) matchExpressions.push({ key: inMatch[1], operator: 'In', values: inMatch[2].split(',') });
    else {
      const [key, value] = part.split('=');
      matchLabels[key.trim()] = value.trim();
    }
  }
  return { matchLabels, matchExpressions };
}

interface Call {
  method: keyof EvidenceReader;
  namespace?: string;
  name?: string;
  selector?: string;
}

class MemoryApi implements EvidenceReader {
  readonly calls: Call[] = [];
  forbidden = new Set<keyof EvidenceReader>();
  hanging = new Set<keyof EvidenceReader>();
  pods: V1Pod[] = [];
  services: V1Service[] = [];
  slices: V1EndpointSlice[] = [];
  nodes: V1Node[] = [];
  namespaces: V1Namespace[] = [];
  policies: V1NetworkPolicy[] = [];
  ingresses: V1Ingress[] = [];

  constructor(world?: ClusterWorld) {
    if (!world) return;
    this.pods = [world.web, ...world.backends, ...world.otherPods, ...world.dnsPods, ...world.agentPods, ...world.ingressControllers];
    this.services = [world.service, world.dnsService];
    this.slices = [...world.slices, ...world.dnsSlices];
    this.nodes = world.nodes;
    this.namespaces = world.namespaces;
    this.policies = world.policies;
    this.ingresses = world.ingresses;
  }

  private async answer<T>(call: Call, value: () => T): Promise<T> {
    this.calls.push(call);
    if (this.hanging.has(call.method)) return new Promise<T>(() => undefined);
    if (this.forbidden.has(call.method)) {
      throw Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', message: `${call.method} is forbidden: User "system:serviceaccount:netcheck-system:netcheck-operator" cannot do it`, code: 403 }) });
    }
    return value();
  }

  private inNamespace<T extends { metadata?: { namespace?: string } }>(items: T[], namespace: string | undefined): T[] {
    return namespace ? items.filter((item) => item.metadata?.namespace === namespace) : items;
  }

  getPod = (namespace: string, name: string) => this.answer({ method: 'getPod', namespace, name }, () => this.pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name) ?? null);
  listPods = (namespace: string | undefined, selector?: string) =>
    this.answer({ method: 'listPods', namespace, selector }, () => this.inNamespace(this.pods, namespace).filter((p) => !selector || matchesLabelSelector(parseSelector(selector), p.metadata?.labels)));
  getService = (namespace: string, name: string) => this.answer({ method: 'getService', namespace, name }, () => this.services.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name) ?? null);
  listEndpointSlices = (namespace: string, selector: string) =>
    this.answer({ method: 'listEndpointSlices', namespace, selector }, () => this.inNamespace(this.slices, namespace).filter((s) => matchesLabelSelector(parseSelector(selector), s.metadata?.labels)));
  getNode = (name: string) => this.answer({ method: 'getNode', name }, () => this.nodes.find((n) => n.metadata?.name === name) ?? null);
  getNamespace = (name: string) => this.answer({ method: 'getNamespace', name }, () => this.namespaces.find((n) => n.metadata?.name === name) ?? null);
  listNetworkPolicies = (namespace: string) => this.answer({ method: 'listNetworkPolicies', namespace }, () => this.inNamespace(this.policies, namespace));
  listIngresses = (namespace: string | undefined) => this.answer({ method: 'listIngresses', namespace }, () => this.inNamespace(this.ingresses, namespace));
}

function serviceInput(world: ClusterWorld, outputs = [probeOutput(WORLD.probePod, 'node-1', healthyDoc())]) {
  const check = buildNetworkCheck('web-to-backend', 'shop', { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
  return diagnosisInput(check, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, outputs);
}

function healthyDoc() {
  const resolv = clusterResolv('shop');
  return probeDoc({
    proto: 'TCP',
    target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 },
    resolv,
    dns: simulateLookup('backend', resolv, { 'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: [WORLD.clusterIP] } }),
    connect: connectResult(WORLD.clusterIP, 8080, 'ok'),
    endpoints: endpointsSection(WORLD.backendIPs.map((ip) => ({ ip, port: 8080, status: 'ok' as const }))),
    mtu: mtuResult(WORLD.backendIPs[0], 'ok'),
  });
}

describe('diagnosis evidence collector', () => {
  it('reads every piece of evidence a Service check needs', async () => {
    const world = clusterWorld();
    world.policies = [buildNetworkPolicy('deny-all', 'shop', { policyTypes: ['Ingress'] }), buildNetworkPolicy('dns', 'kube-system', {}), buildNetworkPolicy('elsewhere', 'other', {})];
    world.ingresses = [buildIngress('shop', 'shop', { host: 'shop.example.com', service: 'backend', port: 8080 }), buildIngress('admin', 'shop', { host: 'admin.example.com', service: 'admin' })];
    const api = new MemoryApi(world);
    const evidence = await collectEvidence(api, serviceInput(world));

    expect(evidence.sourcePods).to.deep.equal({ ok: true, value: [world.web] });
    expect(evidence.service).to.deep.equal({ ok: true, value: world.service });
    expect(evidence.endpointSlices?.ok && evidence.endpointSlices.value.map((s) => s.metadata?.name)).to.deep.equal(['backend-abcde']);
    expect(evidence.backendPods.ok && evidence.backendPods.value.map((p) => p.metadata?.name)).to.deep.equal(['backend-7d9f-abcde', 'backend-7d9f-fghij']);
    expect(evidence.namespacePods, 'near-miss candidates are only read when nothing matched').to.equal(undefined);
    expect(evidence.dns?.pods.ok && evidence.dns.pods.value).to.have.length(2);
    expect(evidence.dns?.service.ok && evidence.dns.service.value?.spec?.clusterIP).to.equal(WORLD.dnsIP);
    const agents = evidence.agentPods.flatMap((entry) => (entry.pods.ok ? entry.pods.value.map((p) => p.metadata?.name) : []));
    expect(agents).to.have.members(['kube-proxy-x8s2m', 'kube-proxy-q4l9v', 'calico-node-7hjkl', 'calico-node-2mnbv']);
    expect(evidence.nodes.ok && evidence.nodes.value.map((n) => n.metadata?.name)).to.deep.equal(['node-1', 'node-2']);
    expect(evidence.namespaces.ok && evidence.namespaces.value.map((n) => n.metadata?.name)).to.have.members(['shop', 'kube-system']);
    expect(evidence.networkPolicies.ok && evidence.networkPolicies.value.map((p) => p.metadata?.name)).to.have.members(['deny-all', 'dns']);
    expect(evidence.ingresses?.ok && evidence.ingresses.value.map((i) => i.metadata?.name), 'only Ingresses routing to the Service').to.deep.equal(['shop']);
    expect(evidence.ingressControllerPods?.pods.ok).to.equal(true);

    // One list per agent label key, cluster-wide; the Service's pods by its selector.
    const selectors = api.calls.filter((c) => c.method === 'listPods').map((c) => `${c.namespace ?? '*'} ${c.selector ?? ''}`);
    expect(selectors).to.include.members([
      'shop app=backend',
      'kube-system k8s-app=kube-dns',
      '* k8s-app in (kube-proxy,calico-node,cilium,kube-router,canal)',
      '* app=flannel',
      '* name=weave-net',
      '* component=antrea-agent',
    ]);
  });

  it('reads the namespace pods for near misses when the selector matches nothing', async () => {
    const world = clusterWorld();
    world.otherPods = [buildPod('backend-v2-0', { namespace: 'shop', labels: { app: 'backend-v2' } })];
    world.backends = [];
    const api = new MemoryApi(world);
    const evidence = await collectEvidence(api, serviceInput(world));
    expect(evidence.backendPods).to.deep.equal({ ok: true, value: [] });
    expect(evidence.namespacePods?.ok && evidence.namespacePods.value.map((p) => p.metadata?.name)).to.have.members(['web', 'backend-v2-0']);
  });

  it('records a forbidden read as evidence, and the diagnosis makes only that layer Unknown', async () => {
    const world = clusterWorld();
    const api = new MemoryApi(world);
    api.forbidden.add('listNetworkPolicies');
    const evidence = await collectEvidence(api, serviceInput(world));
    expect(evidence.networkPolicies.ok).to.equal(false);
    if (!evidence.networkPolicies.ok) expect(evidence.networkPolicies.error).to.match(/^list networkpolicies in (shop|kube-system): HTTP 403 \(forbidden\): listNetworkPolicies is forbidden/);
    expect(evidence.service?.ok).to.equal(true);

    const verdict = await createDiagnose(api)(serviceInput(world));
    expect(verdict.result).to.equal('Healthy');
    const policy = verdict.layers.find((c) => c.type === LayerCondition.NetworkPolicy);
    expect(policy?.status).to.equal('Unknown');
    expect(policy?.reason).to.equal(LayerReason.EvidenceUnavailable);
    expect(policy?.message).to.include('HTTP 403');
  });

  it('gives up on a hanging call after the call timeout', async () => {
    const world = clusterWorld();
    const api = new MemoryApi(world);
    api.hanging.add('getNode');
    const started = Date.now();
    const evidence = await collectEvidence(api, serviceInput(world), { callTimeoutMs: 60 });
    expect(Date.now() - started).to.be.below(1000);
    expect(evidence.nodes.ok).to.equal(false);
    if (!evidence.nodes.ok) expect(evidence.nodes.error).to.include('no answer from the API server');
  });

  it('leaves a source pod deleted since the run started out of the fresh list', async () => {
    const world = clusterWorld();
    const api = new MemoryApi(world);
    api.pods = api.pods.filter((p) => p.metadata?.name !== 'web');
    const input = serviceInput(world);
    const evidence = await collectEvidence(api, input);
    expect(evidence.sourcePods).to.deep.equal({ ok: true, value: [] });
    const verdict = await createDiagnose(api)(input);
    expect(verdict.result).to.equal('Error');
    expect(verdict.reason).to.equal(Cause.SourceNotReady);
    expect(verdict.summary).to.include('was deleted');
  });

  it('for a host destination reads the Ingresses serving that host in every namespace, and no Service', async () => {
    const world = clusterWorld();
    world.ingresses = [
      buildIngress('wild', 'web', { host: '*.example.com', service: 'frontend' }),
      buildIngress('other', 'shop', { host: 'example.org', service: 'backend' }),
    ];
    world.ingresses.forEach((ingress) => world.namespaces.push({ metadata: { name: ingress.metadata!.namespace! } }));
    const api = new MemoryApi(world);
    const check = buildNetworkCheck('to-shop', 'shop', { source: { pod: 'web' }, destination: { host: 'shop.example.com' }, protocol: 'HTTP' });
    const evidence = await collectEvidence(api, diagnosisInput(check, { sourcePods: [world.web] }, []));
    expect(evidence.service).to.equal(undefined);
    expect(evidence.ingresses?.ok && evidence.ingresses.value.map((i) => i.metadata?.name)).to.deep.equal(['wild']);
    expect(api.calls.find((c) => c.method === 'listIngresses')?.namespace).to.equal(undefined);
    expect(evidence.dns, 'a name destination needs DNS evidence').to.not.equal(undefined);
  });

  it('for an IP destination reads no DNS evidence and no Ingresses', async () => {
    const world = clusterWorld();
    const api = new MemoryApi(world);
    const check = buildNetworkCheck('to-ip', 'shop', { source: { pod: 'web' }, destination: { host: '198.51.100.7', port: 443 } });
    const evidence = await collectEvidence(api, diagnosisInput(check, { sourcePods: [world.web] }, []));
    expect(evidence.dns).to.equal(undefined);
    expect(evidence.ingresses).to.equal(undefined);
    expect(api.calls.some((c) => c.method === 'listIngresses' || c.method === 'getService')).to.equal(false);
  });

  it('only makes reads the published RBAC rules allow', async () => {
    const world = clusterWorld();
    world.ingresses = [buildIngress('shop', 'shop', { host: 'shop.example.com', service: 'backend' })];
    const api = new MemoryApi(world);
    await collectEvidence(api, serviceInput(world));
    const needed: Record<keyof EvidenceReader, [string, string]> = {
      getPod: ['pods', 'get'],
      listPods: ['pods', 'list'],
      getService: ['services', 'get'],
      listEndpointSlices: ['endpointslices', 'list'],
      getNode: ['nodes', 'get'],
      getNamespace: ['namespaces', 'get'],
      listNetworkPolicies: ['networkpolicies', 'list'],
      listIngresses: ['ingresses', 'list'],
    };
    const used = new Set(api.calls.map((c) => c.method));
    expect(used.size, 'every reader method is exercised').to.equal(Object.keys(needed).length);
    for (const method of used) {
      const [resource, verb] = needed[method];
      const rule = EVIDENCE_RBAC_RULES.find((r) => (r.resources as readonly string[]).includes(resource));
      expect(rule && (rule.verbs as readonly string[]).includes(verb), `${verb} ${resource}`).to.equal(true);
    }
  });

  it('turns an unexpected failure of the pure part into an Error verdict, not an exception', async () => {
    const world = clusterWorld();
    const api = new MemoryApi(world);
    // A reader returning garbage (not a list) makes the NetworkPolicy evaluation throw.
    api.listNetworkPolicies = async () => [null as unknown as V1NetworkPolicy];
    const verdict = await createDiagnose(api)(serviceInput(world));
    expect(verdict.result).to.equal('Error');
    expect(verdict.reason).to.equal(Cause.DiagnosisFailed);
    expect(verdict.layers).to.have.length(10);
  });

  it('matches Ingress hosts exactly or by a one-label wildcard', () => {
    expect(ingressHostMatches('shop.example.com', 'shop.example.com')).to.equal(true);
    expect(ingressHostMatches('shop.example.com', 'SHOP.example.com.')).to.equal(true);
    expect(ingressHostMatches('*.example.com', 'shop.example.com')).to.equal(true);
    expect(ingressHostMatches('*.example.com', 'a.shop.example.com')).to.equal(false);
    expect(ingressHostMatches('*.example.com', 'example.com')).to.equal(false);
    expect(ingressHostMatches(undefined, 'example.com')).to.equal(false);
  });

  it('describes API errors with the status code and the server message', () => {
    const error = Object.assign(new Error('HTTP-Code: 403\nMessage: ...'), { code: 403, body: '{"kind":"Status","message":"pods is forbidden: nope","code":403}' });
    expect(describeApiError(error)).to.equal('HTTP 403 (forbidden): pods is forbidden: nope');
    expect(describeApiError(new Error('connect ECONNREFUSED 127.0.0.1:6443\nmore'))).to.equal('connect ECONNREFUSED 127.0.0.1:6443');
  });
});

// --- The client-node reader against a local API server ---------------------------------------------------

describe('diagnosis evidence: the @kubernetes/client-node reader', () => {
  let server: Server;
  const requests: string[] = [];
  const world = clusterWorld();
  world.policies = [buildNetworkPolicy('deny-all', 'shop', { policyTypes: ['Ingress'] })];

  function list(kind: string, apiVersion: string, items: unknown[]) {
    return { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: '1' }, items };
  }

  function respond(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    const selector = url.searchParams.get('labelSelector');
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const selected = (pods: V1Pod[]) => (selector ? pods.filter((p) => matchesLabelSelector(parseSelector(selector), p.metadata?.labels)) : pods);
    const allPods = [world.web, ...world.backends, ...world.dnsPods, ...world.agentPods];
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname))) {
      const pod = allPods.find((p) => p.metadata?.namespace === m![1] && p.metadata?.name === m![2]);
      return pod ? send(200, pod) : send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${m[2]}" not found` });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname))) return send(200, list('Pod', 'v1', selected(allPods.filter((p) => p.metadata?.namespace === m![1]))));
    if (url.pathname === '/api/v1/pods') return send(200, list('Pod', 'v1', selected(allPods)));
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/.exec(url.pathname))) {
      const service = [world.service, world.dnsService].find((s) => s.metadata?.namespace === m![1] && s.metadata?.name === m![2]);
      return service ? send(200, service) : send(404, { kind: 'Status', code: 404, message: 'not found' });
    }
    if ((m = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(url.pathname))) {
      const slices = [...world.slices, ...world.dnsSlices].filter((s) => s.metadata?.namespace === m![1] && (!selector || matchesLabelSelector(parseSelector(selector), s.metadata?.labels)));
      return send(200, list('EndpointSlice', 'discovery.k8s.io/v1', slices));
    }
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname))) {
      // node-2 was deleted: a 404 is "absent", not an error.
      const node = world.nodes.find((n) => n.metadata?.name === m![1] && m![1] !== 'node-2');
      return node ? send(200, node) : send(404, { kind: 'Status', code: 404, message: `nodes "${m[1]}" not found` });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname))) {
      const ns = world.namespaces.find((n) => n.metadata?.name === m![1]);
      return ns ? send(200, ns) : send(404, { kind: 'Status', code: 404, message: 'not found' });
    }
    if (/^\/apis\/networking\.k8s\.io\/v1\/namespaces\/kube-system\/networkpolicies$/.test(url.pathname)) {
      return send(403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'networkpolicies.networking.k8s.io is forbidden: User "system:serviceaccount:netcheck-system:netcheck-operator" cannot list resource "networkpolicies" in API group "networking.k8s.io" in the namespace "kube-system"' });
    }
    if ((m = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/networkpolicies$/.exec(url.pathname))) return send(200, list('NetworkPolicy', 'networking.k8s.io/v1', world.policies.filter((p) => p.metadata?.namespace === m![1])));
    if (/^\/apis\/networking\.k8s\.io\/v1\/(namespaces\/[^/]+\/)?ingresses$/.test(url.pathname)) return send(200, list('Ingress', 'networking.k8s.io/v1', []));
    send(404, { kind: 'Status', code: 404, message: `unexpected ${url.pathname}` });
  }

  before(async () => {
    server = createServer(respond);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the expected requests and maps 404 to absent and 403 to a recorded error', async () => {
    const port = (server.address() as AddressInfo).port;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'operator', token: 'test-token' }],
      contexts: [{ name: 'local', cluster: 'local', user: 'operator' }],
      currentContext: 'local',
    });
    const reader = kubeEvidenceReader(kubeConfig);
    expect(await reader.getNode('node-2')).to.equal(null);
    const evidence = await collectEvidence(reader, serviceInput(world));

    expect(requests).to.include.members([
      'GET /api/v1/namespaces/shop/pods/web',
      'GET /api/v1/namespaces/shop/services/backend',
      'GET /apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dbackend',
      'GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dbackend',
      'GET /api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns',
      'GET /api/v1/namespaces/kube-system/services/kube-dns',
      'GET /api/v1/pods?labelSelector=k8s-app+in+%28kube-proxy%2Ccalico-node%2Ccilium%2Ckube-router%2Ccanal%29',
      'GET /api/v1/nodes/node-1',
      'GET /api/v1/namespaces/shop',
      'GET /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies',
      'GET /apis/networking.k8s.io/v1/namespaces/shop/ingresses',
    ]);
    expect(evidence.backendPods.ok && evidence.backendPods.value.map((p) => p.metadata?.name)).to.deep.equal(['backend-7d9f-abcde', 'backend-7d9f-fghij']);
    expect(evidence.nodes.ok && evidence.nodes.value.map((n) => n.metadata?.name), 'the 404 node is absent').to.deep.equal(['node-1']);
    expect(evidence.networkPolicies.ok).to.equal(false);
    if (!evidence.networkPolicies.ok) expect(evidence.networkPolicies.error).to.match(/^list networkpolicies in kube-system: HTTP 403 \(forbidden\): networkpolicies\.networking\.k8s\.io is forbidden/);

    const verdict = await createDiagnose(kubeConfig)(serviceInput(world));
    expect(verdict.result).to.equal('Healthy');
    expect(verdict.reason).to.equal(HealthyReason.Reachable);
    expect(verdict.layers.find((c) => c.type === LayerCondition.NetworkPolicy)?.reason).to.equal(LayerReason.EvidenceUnavailable);
  });
});
