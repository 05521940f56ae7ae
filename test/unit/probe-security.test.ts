// What a probe may be and do (pure): the restricted template and its two privileged exceptions,
// the operator's policy for spec.probe (image allowlist, tolerations, resource caps), the Pod
// Security decision made before any pod exists, the run guards (Ephemeral into host namespaces,
// ephemeral churn, clones served by publishNotReadyAddresses Services), and the node section that
// counts only from the operator's own node probes. Whether the API server agrees with the Pod
// Security decision is tested against real admission in test/integration/podsecurity.test.ts.
import { expect } from 'chai';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { buildDestinationCaptureContainer, destinationCaptureTargets } from '../../operator/probe/capture.ts';
import { runGuardRefusal } from '../../operator/probe/guards.ts';
import { DEFAULT_MAX_EPHEMERAL_PER_POD as MAX_EPHEMERAL_PROBES_PER_POD } from '../../operator/probe/policy.ts';
import { PodProbeStage, isSysctlRefusal, observePods } from '../../operator/probe/pods.ts';
import { enforcedLevel, podSecurityRefusal } from '../../operator/probe/podsecurity.ts';
import { defaultProbePolicy, normalizeImage, parseQuantity, probeSpecRefusal, type ProbePolicy } from '../../operator/probe/policy.ts';
import type { RunRequest } from '../../operator/probe/stage.ts';
import { buildProbePods, cloneLabels, withoutSysctl, type TemplateOptions } from '../../operator/probe/template.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import {
  WORLD, buildNetworkCheck, buildPod, buildService, clusterResolv, clusterWorld, connectResult, diagnosisInput, endpointsSection, fetchedOk, nodeInspection,
  probeDoc, servicePort, simulateLookup, worldEvidence,
} from '../support/builders.ts';

const SCRIPT = '#!/bin/bash\necho fixed program';
const IMAGE = 'docker.io/nicolaka/netshoot:v0.14@sha256:7381eb36fe1b88264c12d1e2585f5ade475624d0106ba6e216ac7e5c3159b7b9';
const OPERATOR_NS = 'netcheck-system';
const RESOLV = clusterResolv('shop');

function check(spec: NetworkCheck['spec'], name = 'c'): NetworkCheck {
  return { apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', metadata: { name, namespace: 'shop', uid: 'uid-1', generation: 1 }, spec };
}
const source = buildPod('web-1', { namespace: 'shop', nodeName: 'node-b', ip: '10.244.1.5', labels: { app: 'web', 'pod-template-hash': 'abc' } });
const service = buildService('backend', 'shop', { selector: { app: 'backend' }, clusterIP: '10.96.12.7', ports: [servicePort(80)] });
function request(c: NetworkCheck, targets: Partial<RunRequest['targets']> = {}): RunRequest {
  return { check: c, spec: withDefaults(c), runId: 'g1-abc', targets: { sourcePods: [source], destinationService: service, destinationPods: [], ...targets } };
}
const options = (extra: Partial<TemplateOptions> = {}): TemplateOptions => ({ operatorNamespace: OPERATOR_NS, image: IMAGE, script: SCRIPT, ...extra });
const envOf = (pod: V1Pod) => Object.fromEntries((pod.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
const tcp = (extra: Partial<NetworkCheck['spec']> = {}) => check({ source: { pod: 'web-1' }, destination: { service: 'backend', port: 80 }, ...extra });
const namespace = (name: string, level?: string): V1Namespace => ({ metadata: { name, labels: level ? { 'pod-security.kubernetes.io/enforce': level } : {} } });

describe('probe pods never serve traffic and carry no borrowed power', () => {
  const newPod = check({ source: { newPod: { labels: { app: 'reports' } } }, destination: { service: 'backend', port: 80 } });
  const node = check({ source: { node: 'node-b' }, destination: { service: 'backend', port: 80 } });
  const all = [
    ...buildProbePods(request(tcp()), options()),
    ...buildProbePods(request(newPod, { sourcePods: [] }), options()),
    ...buildProbePods(request(node, { sourcePods: [], sourceNode: 'node-b' }), options()),
  ];

  it('gives every probe pod a readiness gate nobody sets, no service links and no token', () => {
    expect(all).to.have.length(3);
    for (const pod of all) {
      expect(pod.spec!.readinessGates, pod.metadata!.name).to.deep.equal([{ conditionType: 'netcheck.dev/never-ready' }]);
      expect(pod.spec!.enableServiceLinks).to.equal(false);
      expect(pod.spec!.automountServiceAccountToken).to.equal(false);
    }
  });

  it('runs a capturing probe as root with exactly NET_RAW, SETUID and SETGID, and no ICMP sysctl (it has NET_RAW)', () => {
    const [pod] = buildProbePods(request(tcp({ capture: { when: 'OnFailure' } })), options());
    expect(pod!.spec!.containers[0]!.securityContext).to.deep.include({ runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(pod!.spec!.containers[0]!.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'SETUID', 'SETGID'] });
    expect(pod!.spec!.securityContext).to.deep.equal({ seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('without the sysctl (refused by admission) tells the program why ICMP will not run', () => {
    const [pod] = buildProbePods(request(tcp()), options({ icmpBlocked: 'SysctlRefused' }));
    expect(pod!.spec!.securityContext!.sysctls).to.equal(undefined);
    expect(pod!.spec!.securityContext!.runAsNonRoot).to.equal(true);
    expect(envOf(pod!).NETCHECK_ICMP_BLOCKED).to.equal('SysctlRefused');
  });

  it('replaces a pod the kubelet refused for its sysctl by one without it, on the same node, under a new name', () => {
    const [pod] = buildProbePods(request(tcp()), options());
    const refused = { ...pod!, metadata: { ...pod!.metadata!, uid: 'u1', resourceVersion: '7' }, status: { phase: 'Failed', reason: 'SysctlForbidden' } };
    const replacement = withoutSysctl(refused);
    expect(replacement.metadata!.name).to.equal(`${pod!.metadata!.name}-u`);
    expect(replacement.metadata!.uid).to.equal(undefined);
    expect(replacement.metadata!.labels).to.deep.equal(pod!.metadata!.labels);
    expect(replacement.spec!.nodeName).to.equal('node-b');
    expect(replacement.spec!.securityContext!.sysctls).to.equal(undefined);
    expect(replacement.status).to.equal(undefined);
    expect(envOf(replacement).NETCHECK_ICMP_BLOCKED).to.equal('SysctlForbidden');
    expect(isSysctlRefusal({ body: JSON.stringify({ message: 'admission webhook denied: sysctls are not allowed' }) })).to.equal(true);
    expect(isSysctlRefusal({ body: JSON.stringify({ message: 'exceeded quota' }) })).to.equal(false);
  });

  it('gives node probes the owner it is handed (cross-namespace owners are not allowed), the check namespace label and the operator image', () => {
    const owner = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'networkchecks.netcheck.dev', uid: 'crd-uid', controller: false, blockOwnerDeletion: false };
    const withImage = check({ source: { node: 'node-b' }, destination: { service: 'backend', port: 80 }, probe: { image: 'registry.local/mine:1' } });
    const policy = { ...defaultProbePolicy(IMAGE), allowedImages: [IMAGE, 'registry.local/mine:1'] };
    const [pod] = buildProbePods(request(withImage, { sourcePods: [], sourceNode: 'node-b' }), options({ nodeOwner: owner, policy }));
    expect(pod!.metadata!.ownerReferences).to.deep.equal([owner]);
    expect(pod!.metadata!.labels!['netcheck.dev/check-namespace']).to.equal('shop');
    expect(pod!.spec!.containers[0]!.image).to.equal(IMAGE);
  });
});

describe('the operator chooses the image, tolerations and sizes', () => {
  const policy: ProbePolicy = { ...defaultProbePolicy(IMAGE), allowedImages: [IMAGE, 'registry.local/netshoot@sha256:' + 'a'.repeat(64)] };
  const refusal = (probe: NonNullable<NetworkCheck['spec']['probe']>, p = policy) => probeSpecRefusal(withDefaults(tcp({ probe })), p);

  it('accepts only allowlisted images, compared in canonical form', () => {
    expect(normalizeImage('nicolaka/netshoot:v0.14')).to.equal('docker.io/nicolaka/netshoot:v0.14');
    expect(normalizeImage('busybox')).to.equal('docker.io/library/busybox:latest');
    expect(normalizeImage('localhost:5000/x@sha256:ab')).to.equal('localhost:5000/x@sha256:ab');
    expect(refusal({ image: IMAGE.replace('docker.io/', '') })).to.equal(undefined);
    expect(refusal({ image: 'registry.local/netshoot@sha256:' + 'a'.repeat(64) })).to.equal(undefined);
    const refused = refusal({ image: 'evil.example/miner:latest' });
    expect(refused).to.deep.include({ reason: 'ProbeImageNotAllowed' });
    expect(refused!.message).to.match(/^spec\.probe\.image: evil\.example\/miner:latest is not an image this operator runs probes with \(allowed: /);
    // The tag alone is not the pinned image: the digest is what is allowed.
    expect(refusal({ image: 'docker.io/nicolaka/netshoot:v0.14' })).to.deep.include({ reason: 'ProbeImageNotAllowed' });
  });

  it('runs the allowlisted image in tenant probes, and the operator image in destination captures', () => {
    const c = tcp({ probe: { image: 'registry.local/netshoot@sha256:' + 'a'.repeat(64) }, capture: { when: 'Always', destination: true } });
    const [pod] = buildProbePods(request(c), options({ policy }));
    expect(pod!.spec!.containers[0]!.image).to.equal('registry.local/netshoot@sha256:' + 'a'.repeat(64));
    const backend = buildPod('backend-1', { namespace: 'shop', ip: '10.244.1.7' });
    const built = buildDestinationCaptureContainer(request(c, { destinationPods: [backend] }), { pod: backend, port: 8080 }, policy.image);
    expect(built.ok && built.container.image).to.equal(IMAGE);
  });

  it('refuses a toleration of every taint (empty key) unless allowed, and control-plane taints unless named', () => {
    expect(refusal({ tolerations: [{ operator: 'Exists' }] })).to.deep.include({ reason: 'ProbeTolerationNotAllowed' });
    expect(refusal({ tolerations: [{ operator: 'Exists' }] })!.message).to.include('spec.probe.tolerations[0]: an empty key');
    expect(refusal({ tolerations: [{ operator: 'Exists' }] }, { ...policy, tolerateAllTaints: true })).to.equal(undefined);
    expect(refusal({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] })).to.equal(undefined);
    expect(refusal({ tolerations: [{ key: 'dedicated', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] })!.message)
      .to.include('spec.probe.tolerations[1]: taint key node-role.kubernetes.io/control-plane');
    expect(refusal({ tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }, { ...policy, tolerationKeys: ['node-role.kubernetes.io/control-plane'] })).to.equal(undefined);
    expect(refusal({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }, { ...policy, tolerationKeys: ['gpu'] })).to.deep.include({ reason: 'ProbeTolerationNotAllowed' });
  });

  it('caps cpu and memory, and refuses requests above limits, naming the field', () => {
    expect(refusal({ resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '0.1', memory: '64Mi' } } })).to.equal(undefined);
    expect(refusal({ resources: { limits: { memory: '1Gi' } } })!.message).to.equal('spec.probe.resources.limits.memory: 1Gi is more than this operator allows for a probe (256Mi); lower it.');
    expect(refusal({ resources: { limits: { cpu: 2 } } })!.message).to.match(/^spec\.probe\.resources\.limits\.cpu: 2 is more/);
    expect(refusal({ resources: { requests: { memory: '128Mi' } } })!.message).to.include('spec.probe.resources.requests.memory: 128Mi is more than the limit 64Mi');
    const [pod] = buildProbePods(request(tcp({ probe: { resources: { limits: { memory: '128Mi' } } } })), options());
    expect(pod!.spec!.containers[0]!.resources).to.deep.equal({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '128Mi' } });
  });

  it('parses resource quantities as the API does', () => {
    expect([parseQuantity('500m'), parseQuantity('1.5Gi'), parseQuantity('64Mi'), parseQuantity('2'), parseQuantity('1e3'), parseQuantity('.5'), parseQuantity(3)])
      .to.deep.equal([0.5, 1.5 * 2 ** 30, 64 * 2 ** 20, 2, 1000, 0.5, 3]);
    expect(parseQuantity('12 Mi')).to.equal(undefined);
    expect(parseQuantity('1Gb')).to.equal(undefined);
  });
});

describe('Pod Security is decided before any pod exists', () => {
  const capture = withDefaults(tcp({ capture: { when: 'OnFailure' } }));

  it('reads the enforce label; no label is the (privileged) default, a bad value is restricted', () => {
    expect(enforcedLevel(namespace('a'))).to.equal('privileged');
    expect(enforcedLevel(namespace('a', 'baseline'))).to.equal('baseline');
    expect(enforcedLevel(namespace('a', 'nonsense'))).to.equal('restricted');
  });

  it('refuses capture in restricted and baseline namespaces, naming the level and the capability', () => {
    for (const level of ['restricted', 'baseline']) {
      const refused = podSecurityRefusal(capture, namespace('shop', level), undefined);
      expect(refused, level).to.deep.include({ reason: 'CaptureForbiddenByPodSecurity' });
      expect(refused!.message).to.include(`namespace shop enforces Pod Security "${level}"`).and.include('NET_RAW');
    }
    expect(podSecurityRefusal(capture, namespace('shop', 'privileged'), undefined)).to.equal(undefined);
    expect(podSecurityRefusal(capture, namespace('shop'), undefined)).to.equal(undefined);
    expect(podSecurityRefusal(withDefaults(tcp()), namespace('shop', 'restricted'), undefined)).to.equal(undefined);
  });

  it('judges node probes by the operator namespace, and a node capture by it alone', () => {
    const nodeCapture = withDefaults(check({ source: { node: 'n' }, destination: { host: '10.0.0.1', port: 80 }, capture: { when: 'Always' } }));
    expect(podSecurityRefusal(nodeCapture, namespace('shop', 'restricted'), namespace(OPERATOR_NS, 'privileged'))).to.equal(undefined);
    const refused = podSecurityRefusal(nodeCapture, namespace('shop'), namespace(OPERATOR_NS, 'baseline'));
    expect(refused).to.deep.include({ reason: 'NodeProbeForbiddenByPodSecurity' });
    expect(refused!.message).to.include(`namespace ${OPERATOR_NS}, which enforces Pod Security "baseline"`).and.include('hostNetwork');
  });
});

describe('run guards: what a run may not do to the pods it touches', () => {
  const guard = (c: NetworkCheck, pods: V1Pod[], services = [service]) =>
    runGuardRefusal({ spec: withDefaults(c), namespace: 'shop', sourcePods: pods, services, cloneLabels, maxEphemeralPerPod: MAX_EPHEMERAL_PROBES_PER_POD });
  const ephemeral = tcp({ source: { pod: 'web-1', via: 'Ephemeral' } });

  it('refuses via: Ephemeral into a pod sharing the node\'s network or PID namespace', () => {
    const exporter = buildPod('node-exporter-x', { namespace: 'shop', hostNetwork: true, ip: '10.240.0.1' });
    expect(guard(ephemeral, [exporter])!.message).to.equal('spec.source.via: pod shop/node-exporter-x shares the node\'s namespaces (hostNetwork); an ephemeral probe there would act on the node itself. Use via: Clone, or a node source from a namespace allowed to probe nodes.');
    const pid = buildPod('debugger', { namespace: 'shop', ip: '10.244.1.9' });
    pid.spec!.hostPID = true;
    expect(guard(ephemeral, [pid])).to.deep.include({ reason: 'EphemeralIntoHostNamespace' });
    expect(guard(tcp(), [exporter])).to.equal(undefined); // a clone does not join the pod's namespaces
  });

  it('caps this operator\'s ephemeral containers per pod, with the count', () => {
    const crowded = (count: number) => {
      const pod = structuredClone(source);
      pod.spec!.ephemeralContainers = [
        { name: 'debugger-abc', image: 'x' },
        ...Array.from({ length: count }, (_, i) => ({ name: `netcheck-g1-${i}`, image: 'x' })),
      ];
      return pod;
    };
    expect(guard(ephemeral, [crowded(MAX_EPHEMERAL_PROBES_PER_POD - 1)])).to.equal(undefined);
    const refused = guard(ephemeral, [crowded(MAX_EPHEMERAL_PROBES_PER_POD)]);
    expect(refused).to.deep.include({ reason: 'TooManyEphemeralContainers' });
    expect(refused!.message).to.include(`already holds ${MAX_EPHEMERAL_PROBES_PER_POD} ephemeral containers from this operator (at most ${MAX_EPHEMERAL_PROBES_PER_POD})`);
    // Destination captures respect the same cap: reported as a refused capture point.
    const c = tcp({ capture: { when: 'Always', destination: true } });
    const full = { ...crowded(MAX_EPHEMERAL_PROBES_PER_POD), metadata: { name: 'backend-1', namespace: 'shop' } };
    expect(destinationCaptureTargets(request(c, { destinationPods: [full] })).refused[0]!.reason).to.include('already holds 5 ephemeral containers');
  });

  it('refuses a clone a publishNotReadyAddresses Service would serve, naming the Service and the alternatives', () => {
    const headless = buildService('web-peers', 'shop', { selector: { app: 'web' }, clusterIP: 'None' });
    headless.spec!.publishNotReadyAddresses = true;
    const refused = guard(tcp(), [source], [service, headless]);
    expect(refused).to.deep.include({ reason: 'CloneServedByService' });
    expect(refused!.message).to.equal('spec.source: Service shop/web-peers selects the clone of pod shop/web-1 and has publishNotReadyAddresses: true, so it would serve the probe pod to its clients even though the probe is never ready; use spec.source.via: Ephemeral (the probe runs inside the source pod), or a newPod source with labels this Service does not select.');
    expect(guard(ephemeral, [source], [headless])).to.equal(undefined);
    const fresh = check({ source: { newPod: { labels: { app: 'web' } } }, destination: { service: 'backend', port: 80 } });
    expect(guard(fresh, [], [headless])!.message).to.include('selects the new probe pod').and.include('give spec.source.newPod.labels');
    // An ordinary Service selecting the clone is fine: the readiness gate keeps it out of its endpoints.
    expect(guard(tcp(), [source], [buildService('web', 'shop', { selector: { app: 'web' } })])).to.equal(undefined);
    // A per-pod Service (StatefulSet pod-name) never selects a clone: the clone does not carry that label.
    const perPod = buildService('web-0', 'shop', { selector: { 'statefulset.kubernetes.io/pod-name': 'web-1' } });
    perPod.spec!.publishNotReadyAddresses = true;
    const statefulSource = { ...source, metadata: { ...source.metadata, labels: { ...source.metadata!.labels, 'statefulset.kubernetes.io/pod-name': 'web-1' } } };
    expect(guard(tcp(), [statefulSource], [perPod])).to.equal(undefined);
  });
});

describe('the node section counts only from the operator\'s own node probes', () => {
  const finished = (pod: V1Pod, doc: unknown): V1Pod => {
    pod.status = { phase: 'Succeeded', containerStatuses: [{ name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: JSON.stringify(doc) } } }] };
    return pod;
  };
  const claim = probeDoc({ proto: 'TCP', target: { ip: '10.96.12.7', port: 80 }, mode: 'node', node: nodeInspection({ ipForward: 0 }) });

  it('drops a node section a tenant probe printed, and keeps the operator node probe\'s', () => {
    const tenant = finished(buildProbePods(request(tcp()), options())[0]!, claim);
    const nodeCheck = check({ source: { node: 'node-b' }, destination: { service: 'backend', port: 80 } });
    const nodeProbe = finished(buildProbePods(request(nodeCheck, { sourcePods: [], sourceNode: 'node-b' }), options())[0]!, claim);
    const seen = observePods([tenant, nodeProbe], undefined, OPERATOR_NS);
    expect(seen.state).to.equal('Completed');
    if (seen.state !== 'Completed') return;
    expect((seen.outputs[0]!.result as { node?: unknown }).node).to.equal(undefined);
    expect((seen.outputs[1]!.result as { node?: { ipForward: number } }).node?.ipForward).to.equal(0);
    // A hostNetwork pod in a tenant namespace is not a node probe of this operator either.
    const impostor = finished(structuredClone(nodeProbe), claim);
    impostor.metadata!.namespace = 'shop';
    const alone = observePods([impostor], undefined, OPERATOR_NS);
    expect(alone.state === 'Completed' && (alone.outputs[0]!.result as { node?: unknown }).node).to.equal(undefined);
  });
});

describe('without ICMP (no sysctl, no NET_RAW) the check degrades per layer', () => {
  const reason = 'ICMP unavailable: the cluster refused the probe pod\'s net.ipv4.ping_group_range sysctl, which unprivileged ping needs';
  const finished = (doc: unknown): V1Pod => {
    const pod = buildPod('p-0', { namespace: 'shop', phase: 'Succeeded' });
    pod.status!.containerStatuses = [{ name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: JSON.stringify(doc) } } }];
    return pod;
  };

  it('a TCP check stays Healthy, and its MTU layer is Unknown with the reason the probe gave', () => {
    const world = clusterWorld();
    const doc = probeDoc({
      proto: 'TCP', target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 }, resolv: RESOLV,
      dns: simulateLookup('backend', RESOLV, { 'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: [WORLD.clusterIP] } }),
      connect: connectResult(WORLD.clusterIP, 8080, 'ok'),
      endpoints: endpointsSection([{ ip: WORLD.backendIPs[0]!, port: 8080, status: 'ok' }]),
      mtu: { status: 'skipped', err: reason },
    });
    const seen = observePods([finished(doc)]);
    expect(seen.state).to.equal('Completed');
    if (seen.state !== 'Completed') return;
    const c = buildNetworkCheck('c', 'shop', { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
    const input = diagnosisInput(c, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, seen.outputs);
    const verdict = diagnoseFromEvidence(worldEvidence(world, { sourcePods: fetchedOk([world.web]) }), input);
    expect(verdict.result).to.equal('Healthy');
    const mtu = verdict.layers.find((layer) => layer.type === 'PathMTU')!;
    expect(mtu).to.deep.include({ status: 'Unknown', reason: 'NotProbed' });
    expect(mtu.message).to.equal(`Not measured: ${reason}.`);
  });

  it('an ICMP check whose ping could not run is an Error that says why, never Healthy', () => {
    const doc = probeDoc({ proto: 'ICMP', target: { ip: WORLD.backendIPs[0]! }, resolv: RESOLV, icmp: { status: 'skipped', err: reason } });
    expect(observePods([finished(doc)])).to.deep.equal({
      state: 'Failed', pods: ['p-0'], reason: 'ICMPUnavailable',
      message: 'Probe pod p-0 could not ping, so the ICMP check was not evaluated: the cluster refused the probe pod\'s net.ipv4.ping_group_range sysctl, which unprivileged ping needs.',
    });
    // A ping skipped for want of an address (DNS failed) is the diagnosis's to explain, not an Error here.
    const noAddress = probeDoc({ proto: 'ICMP', target: { host: 'gone.example' }, resolv: RESOLV, icmp: { status: 'skipped', err: 'no destination address (DNS lookup failed)' } });
    expect(observePods([finished(noAddress)]).state).to.equal('Completed');
  });
});

describe('the pod stage degrades a pod the kubelet refused for its sysctl', () => {
  it('re-creates it without the sysctl under a new name, deletes the refused one, and keeps observing the run', async () => {
    // The kubelet's verdict (status.reason SysctlForbidden) cannot be provoked on the local cluster,
    // whose kubelet allows every safe sysctl: it is given here; what the stage does with it is real.
    const c = tcp();
    const [pod] = buildProbePods(request(c), options());
    const pods = new Map<string, V1Pod>([[pod!.metadata!.name!, { ...pod!, status: { phase: 'Failed', reason: 'SysctlForbidden', message: 'Pod forbidden sysctl: "net.ipv4.ping_group_range" not allowlisted' } }]]);
    const calls: string[] = [];
    const core = {
      listNamespacedPod: async () => ({ items: [...pods.values()] }),
      createNamespacedPod: async ({ body }: { body: V1Pod }) => { calls.push(`create ${body.metadata!.name}`); pods.set(body.metadata!.name!, { ...body, status: { phase: 'Pending' } }); return body; },
      deleteNamespacedPod: async ({ name }: { name: string }) => { calls.push(`delete ${name}`); pods.delete(name); return {}; },
    };
    const stage = new PodProbeStage({ core: core as never, operatorNamespace: OPERATOR_NS, policy: defaultProbePolicy(IMAGE), script: SCRIPT });
    const first = await stage.observe(c, 'g1-abc');
    expect(calls).to.deep.equal([`create ${pod!.metadata!.name}-u`, `delete ${pod!.metadata!.name}`]);
    expect(first).to.deep.include({ state: 'Running' });
    const replacement = pods.get(`${pod!.metadata!.name}-u`)!;
    expect(replacement.spec!.securityContext!.sysctls).to.equal(undefined);
    expect(envOf(replacement).NETCHECK_ICMP_BLOCKED).to.equal('SysctlForbidden');
    await stage.observe(c, 'g1-abc');
    expect(calls, 'nothing more to replace').to.have.length(2);
  });
});
