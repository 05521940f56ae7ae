// Probe pod templates and the probe environment, built from checks (pure; the API-facing parts
// run in the e2e tier against a real kubelet).
import { expect } from 'chai';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { withDefaults } from '../../operator/api/defaults.ts';
import { buildEphemeralContainers, buildProbePods, ephemeralContainerName, observePods, probePodName } from '../../operator/probe/pods.ts';
import { probeEnvironment, resolveServicePort } from '../../operator/probe/env.ts';
import type { RunRequest } from '../../operator/probe/stage.ts';
import { buildPod, buildService, servicePort } from '../support/builders.ts';

const SCRIPT = '#!/bin/bash\necho fixed program';

function check(spec: NetworkCheck['spec'], name = 'web-to-backend'): NetworkCheck {
  return { apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', metadata: { name, namespace: 'shop', uid: 'uid-1', generation: 3 }, spec };
}

function request(c: NetworkCheck, targets: Partial<RunRequest['targets']> = {}): RunRequest {
  return { check: c, spec: withDefaults(c), runId: 'g3-abc', targets: { sourcePods: [], destinationPods: [], ...targets } };
}

const source = buildPod('web-7d9f-x2', {
  namespace: 'shop', nodeName: 'node-b', ip: '10.244.1.5', dnsPolicy: 'ClusterFirst',
  labels: { app: 'web', tier: 'front', 'pod-template-hash': '7d9f', 'controller-revision-hash': 'abc' },
});
const backends = [
  buildPod('backend-1', { namespace: 'shop', ip: '10.244.1.7', labels: { app: 'backend' }, ports: [{ containerPort: 8080, name: 'http' }] }),
  buildPod('backend-2', { namespace: 'shop', ip: '10.244.2.8', labels: { app: 'backend' }, ports: [{ containerPort: 8080, name: 'http' }] }),
  buildPod('backend-3', { namespace: 'shop', ip: '10.244.2.9', labels: { app: 'backend' }, ready: false, ports: [{ containerPort: 8080, name: 'http' }] }),
];
const service = buildService('backend', 'shop', { selector: { app: 'backend' }, clusterIP: '10.96.12.7', ports: [servicePort(80, 'http', { name: 'web' })] });
const env = (pod: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } }) =>
  Object.fromEntries((pod.spec!.containers![0]!.env ?? []).map((e) => [e.name, e.value]));

describe('probe pods', () => {
  const tcp = check({ source: { pod: 'web-7d9f-x2' }, destination: { service: 'backend', port: 80 }, protocol: 'TCP' });
  const [clone] = buildProbePods(request(tcp, { sourcePods: [source], destinationService: service, destinationPods: backends }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });

  it('clones the source: same node, namespace, DNS policy and labels minus controller-owned ones', () => {
    expect(clone!.metadata!.namespace).to.equal('shop');
    expect(clone!.spec!.nodeName).to.equal('node-b');
    expect(clone!.spec!.dnsPolicy).to.equal('ClusterFirst');
    expect(clone!.metadata!.labels).to.deep.equal({
      app: 'web', tier: 'front',
      'netcheck.dev/check': 'web-to-backend', 'netcheck.dev/run': 'g3-abc', 'app.kubernetes.io/managed-by': 'netcheck-operator',
    });
  });

  it('is owned by the check (garbage-collected with it) and never restarts', () => {
    expect(clone!.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', name: 'web-to-backend', uid: 'uid-1', controller: true, blockOwnerDeletion: false }]);
    expect(clone!.spec!.restartPolicy).to.equal('Never');
    // The program's budget for timeout 5 s is 5*5+25 = 50 s; the deadline adds start-up time.
    expect(clone!.spec!.activeDeadlineSeconds).to.equal(80);
  });

  it('runs as Pod Security restricted: non-root, every capability dropped and none added, no escalation, no token or host access', () => {
    const container = clone!.spec!.containers[0]!;
    expect(container.securityContext).to.deep.include({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 65532 });
    expect(container.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'] });
    expect(container.securityContext!.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    // ICMP and the DF path-MTU pings use unprivileged ICMP sockets, allowed to the probe's group.
    expect(clone!.spec!.securityContext).to.deep.equal({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' },
      sysctls: [{ name: 'net.ipv4.ping_group_range', value: '65532 65532' }],
    });
    expect(clone!.spec!.hostNetwork).to.equal(undefined);
    expect(clone!.spec!.automountServiceAccountToken).to.equal(false);
    expect(container.imagePullPolicy).to.equal('IfNotPresent');
    expect(container.resources!.limits).to.deep.equal({ cpu: '200m', memory: '64Mi' });
  });

  it('sets no sysctl for a DNS-only probe, which never pings', () => {
    const dns = check({ source: { pod: 'web-7d9f-x2' }, destination: { service: 'backend' }, protocol: 'DNS' });
    const [pod] = buildProbePods(request(dns, { sourcePods: [source], destinationService: service }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    expect(pod!.spec!.containers[0]!.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'] });
    expect(pod!.spec!.securityContext!.sysctls).to.equal(undefined);
  });

  it('runs only the fixed program; user strings travel as environment values', () => {
    const hostile = check({ source: { pod: 'web-7d9f-x2' }, destination: { host: 'evil.example.com', port: 443 }, protocol: 'HTTPS', http: { path: "/$(touch /tmp/pwned);'`id`", host: 'x.example.com' } });
    const [pod] = buildProbePods(request(hostile, { sourcePods: [source] }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    const container = pod!.spec!.containers[0]!;
    expect(container.command).to.deep.equal(['/bin/bash', '-c', SCRIPT, 'netcheck-probe']);
    expect(container.args).to.equal(undefined);
    expect(env(pod!).NETCHECK_HTTP_PATH).to.equal("/$(touch /tmp/pwned);'`id`");
  });

  it('passes the ClusterIP, the service port, the ready backends and a backend as MTU target', () => {
    expect(env(clone!)).to.deep.equal({
      NETCHECK_MODE: 'pod', NETCHECK_PROTOCOL: 'TCP', NETCHECK_TIMEOUT: '5',
      NETCHECK_HOST: 'backend', NETCHECK_TARGET_IP: '10.96.12.7', NETCHECK_PORT: '80',
      NETCHECK_ENDPOINTS: '10.244.1.7:8080 10.244.2.8:8080',
      NETCHECK_MTU_CHECK: '1', NETCHECK_MTU_TARGET: '10.244.1.7',
    });
  });

  it('names a Service in another namespace as <service>.<namespace>.svc', () => {
    const other = check({ source: { pod: 'web-7d9f-x2' }, destination: { service: 'backend', namespace: 'data', port: 'web' } });
    const [pod] = buildProbePods(request(other, { sourcePods: [source], destinationService: service, destinationPods: backends }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    expect(env(pod!).NETCHECK_HOST).to.equal('backend.data.svc');
    expect(env(pod!).NETCHECK_PORT).to.equal('80');
  });

  it('probes from one pod per source with spread EveryNode, each on its node', () => {
    const second = buildPod('web-7d9f-y3', { namespace: 'shop', nodeName: 'node-c', ip: '10.244.2.5', labels: { app: 'web' } });
    const spread = check({ source: { podSelector: { matchLabels: { app: 'web' } }, spread: 'EveryNode' }, destination: { service: 'backend', port: 80 } });
    const pods = buildProbePods(request(spread, { sourcePods: [source, second], destinationService: service }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    expect(pods.map((p) => [p.metadata!.name, p.spec!.nodeName])).to.deep.equal([['web-to-backend-g3-abc-0', 'node-b'], ['web-to-backend-g3-abc-1', 'node-c']]);
  });

  it('gives newPod sources exactly the requested labels and lets the scheduler place them', () => {
    const fresh = check({ source: { newPod: { labels: { app: 'reports' } } }, destination: { service: 'backend', port: 80 } });
    const [pod] = buildProbePods(request(fresh, { destinationService: service }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    expect(pod!.metadata!.labels!.app).to.equal('reports');
    expect(pod!.spec!.nodeName).to.equal(undefined);
  });

  it('puts node probes in the operator namespace with hostNetwork, never in the tenant namespace', () => {
    const node = check({ source: { node: 'node-b' }, destination: { service: 'backend', port: 80 } });
    const [pod] = buildProbePods(request(node, { sourceNode: 'node-b', destinationService: service }), { operatorNamespace: 'netcheck-system', image: 'img:1', script: SCRIPT });
    expect(pod!.metadata!.namespace).to.equal('netcheck-system');
    expect(pod!.spec!.hostNetwork).to.equal(true);
    expect(pod!.spec!.nodeName).to.equal('node-b');
    expect(env(pod!).NETCHECK_MODE).to.equal('node');
    expect(pod!.spec!.containers[0]!.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] });
    expect(pod!.spec!.containers[0]!.securityContext!.runAsUser).to.equal(0);
    // A hostNetwork pod may not set network sysctls, and needs none: it has NET_RAW.
    expect(pod!.spec!.securityContext).to.deep.equal({ seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('builds via: Ephemeral as the same program in a container added to each source pod', () => {
    const eph = check({ source: { pod: 'web-7d9f-x2', via: 'Ephemeral' }, destination: { service: 'backend', port: 80 } });
    const [added] = buildEphemeralContainers(request(eph, { sourcePods: [source], destinationService: service, destinationPods: backends }), { image: 'img:1', script: SCRIPT });
    expect(added!.pod.metadata!.name).to.equal('web-7d9f-x2');
    // The run id plus a digest of the check's name: two checks of one second share the run id.
    expect(added!.container.name).to.match(/^netcheck-g3-abc-[0-9a-f]{8}$/);
    expect(ephemeralContainerName('g3-abc', 'other-check')).to.not.equal(added!.container.name);
    expect(added!.container.command).to.deep.equal(['/bin/bash', '-c', SCRIPT, 'netcheck-probe']);
    // The same restricted context as a probe pod's container (its own rootfs stays writable: no volume).
    expect(added!.container.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: false, runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(Object.fromEntries(added!.container.env!.map((e) => [e.name, e.value]))).to.include({ NETCHECK_TARGET_IP: '10.96.12.7', NETCHECK_PORT: '80' });
  });

  it('keeps probe pod names within 63 characters', () => {
    expect(probePodName(check({ source: { pod: 'a' }, destination: { host: 'x', port: 1 } }, 'n'.repeat(200)), 'g12-abcdef', 7).length).to.be.at.most(63);
  });

  it('resolves Service ports by number, by name, and reports a missing one with the ports it has', () => {
    expect(resolveServicePort(service, 80).port).to.equal(80);
    expect(resolveServicePort(service, 'web').port).to.equal(80);
    expect(resolveServicePort(service, 9999).error).to.equal('Service shop/backend has no port 9999 (it has: web/80)');
  });

  it('reads an image pull failure as ProbeFailed with the kubelet message', () => {
    const stuck = buildPod('p', { phase: 'Pending' });
    stuck.metadata!.name = 'p';
    stuck.status!.containerStatuses = [{ name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "x" is not present with pull policy of Never' } } }];
    const seen = observePods([stuck]);
    expect(seen).to.deep.include({ state: 'Failed', reason: 'ProbeFailed' });
    expect((seen as { message: string }).message).to.include('ErrImageNeverPull').and.include('not present');
  });

  it('reads a terminated probe with garbage output as ProbeOutputInvalid, quoting it', () => {
    const done = buildPod('p', { phase: 'Succeeded' });
    done.status!.containerStatuses = [{ name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: 'not json at all' } } }];
    const seen = observePods([done]);
    expect(seen).to.deep.include({ state: 'Failed', reason: 'ProbeOutputInvalid' });
    expect((seen as { message: string }).message).to.include('not json at all');
  });
});
