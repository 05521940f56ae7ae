// Probes under Pod Security, end to end on the local cluster with the API server enforcing Pod
// Security admission: in namespaces labelled enforce=restricted, baseline and privileged, a TCP
// check (with its unprivileged DF path-MTU pings) and an ICMP check run in real, non-root probe
// pods without capabilities and reach Healthy; a capture check is Stalled with
// CaptureForbiddenByPodSecurity in restricted and baseline without any probe pod ever created, and
// captures in privileged. A namespace whose admission refuses every sysctl (a real
// ValidatingAdmissionPolicy) degrades per layer: the TCP check stays Healthy with the MTU layer
// Unknown and the reason, the ICMP check is an Error that says why.
import { AdmissionregistrationV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, waitFor, type Backend } from '../support/cluster.ts';
import { CheckClient, startClusterOperator } from '../support/operator.ts';
import { refusalMessage } from '../../operator/probe/pods.ts';

const LEVELS = ['restricted', 'baseline', 'privileged'] as const;
const ENFORCE = 'pod-security.kubernetes.io/enforce';

describe('probes under Pod Security on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let manager: Manager | undefined;
  let destination: string;
  let backend: Backend;
  const tenants = new Map<string, string>(); // level (or 'nosysctl') -> namespace
  const probePodsSeen = new Map<string, V1Pod>();
  let watching = true;
  let watcher: Promise<void> | undefined;
  let policyName: string | undefined;
  let admission: AdmissionregistrationV1Api;

  /** A source pod that restricted admits: the probe image sleeping as a non-root user. */
  const restrictedPod = (name: string): V1Pod => ({
    metadata: { name, labels: { app: 'web' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'main', image: cluster.probeImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      }],
    },
  });

  const specs = (): Record<string, NetworkCheckSpec> => ({
    tcp: { source: { pod: 'web' }, destination: { service: backend.name, namespace: destination, port: BACKEND_PORTS.http.service }, timeoutSeconds: 3 },
    icmp: { source: { pod: 'web' }, destination: { pod: backend.podNames[0]!, namespace: destination }, protocol: 'ICMP', timeoutSeconds: 3 },
    capture: { source: { pod: 'web' }, destination: { service: backend.name, namespace: destination, port: BACKEND_PORTS.http.service }, timeoutSeconds: 3, capture: { when: 'Always' } },
  });

  const condition = (check: NetworkCheck, type: string) => check.status?.conditions?.find((c) => c.type === type);
  const describe_ = (check: NetworkCheck) => `${check.status?.result}/${check.status?.reason}: ${check.status?.summary}`;
  const stalledWith = (client: CheckClient, name: string) => waitFor(`${client.namespace}/${name} Stalled`, async () => {
    const check = await client.get(name);
    return condition(check, 'Stalled')?.status === 'True' && check.status?.observedGeneration === check.metadata?.generation ? check : undefined;
  }, 60_000);

  before(async () => {
    cluster = await TestCluster.connect();
    admission = cluster.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    destination = await cluster.createNamespace('e2e-ps-dst');
    for (const level of LEVELS) tenants.set(level, await cluster.createNamespace(`e2e-ps-${level.slice(0, 4)}`, { [ENFORCE]: level }));
    tenants.set('nosysctl', await cluster.createNamespace('e2e-ps-nosysctl', { [ENFORCE]: 'restricted' }));
    backend = await cluster.createBackend({ namespace: destination, name: 'backend', replicas: 1 });
    await Promise.all([...tenants.values()].map(async (namespace) => {
      await cluster.core.createNamespacedPod({ namespace, body: restrictedPod('web') });
      await cluster.waitForPodRunning(namespace, 'web');
    }));
    // Every probe pod the operator creates in the tenant namespaces, as the API server stored it.
    watcher = (async () => {
      while (watching) {
        for (const namespace of tenants.values()) {
          const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/managed-by=netcheck-operator' }).catch(() => undefined);
          for (const pod of pods?.items ?? []) probePodsSeen.set(`${namespace}/${pod.metadata!.name}`, pod);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    manager = await startClusterOperator(cluster, [...tenants.values(), destination]);
  });

  after(async () => {
    watching = false;
    await watcher;
    await manager?.stop();
    if (policyName) {
      await admission.deleteValidatingAdmissionPolicyBinding({ name: policyName }).catch(() => undefined);
      await admission.deleteValidatingAdmissionPolicy({ name: policyName }).catch(() => undefined);
    }
    await Promise.all([...tenants.values(), destination].filter(Boolean).map((namespace) => cluster.deleteNamespace(namespace, { wait: true })));
  });

  it('has Pod Security admission on: a pod adding NET_RAW is refused in restricted and baseline', async () => {
    for (const level of ['restricted', 'baseline'] as const) {
      const bad = restrictedPod('bad');
      bad.spec!.containers[0]!.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } };
      const refused = await cluster.core.createNamespacedPod({ namespace: tenants.get(level)!, body: bad, dryRun: 'All' }).then(() => undefined, (err: { body?: string }) => refusalMessage(err));
      expect(refused, level).to.include(`violates PodSecurity "${level}:latest"`).and.include('NET_RAW');
    }
  });

  it('in restricted, baseline and privileged: TCP (with unprivileged path-MTU pings) and ICMP are Healthy; capture is refused up front except in privileged', async () => {
    const clients = new Map(LEVELS.map((level) => [level, new CheckClient(cluster, tenants.get(level)!)]));
    for (const client of clients.values()) for (const [name, spec] of Object.entries(specs())) await client.create(name, spec);

    for (const level of LEVELS) {
      const client = clients.get(level)!;
      const [tcp, icmp] = [await client.completedRun('tcp'), await client.completedRun('icmp')];
      expect(tcp.status!.result, `${level} tcp: ${describe_(tcp)}`).to.equal('Healthy');
      expect(condition(tcp, 'PathMTU'), `${level}: the DF pings ran without privileges`).to.deep.include({ status: 'True' });
      expect(icmp.status!.result, `${level} icmp: ${describe_(icmp)}`).to.equal('Healthy');
      expect(condition(icmp, 'PodReachable')!.message).to.match(/3\/3 replies/);
      if (level === 'privileged') {
        const captured = await client.completedRun('capture');
        expect(captured.status!.result, describe_(captured)).to.equal('Healthy');
        expect(captured.status!.capture?.state).to.equal('Kept');
      } else {
        const stalled = await stalledWith(client, 'capture');
        expect(stalled.status!.reason).to.equal('CaptureForbiddenByPodSecurity');
        expect(condition(stalled, 'Stalled')!.message).to.include(`enforces Pod Security "${level}"`).and.include('NET_RAW');
        expect(stalled.status!.lastRun, 'no run was started').to.equal(undefined);
      }
    }
    // The pods that ran: non-root without capabilities, except the privileged namespace's capture.
    const seen = [...probePodsSeen.entries()];
    for (const level of LEVELS) {
      const namespace = tenants.get(level)!;
      const own = seen.filter(([key]) => key.startsWith(`${namespace}/`)).map(([, pod]) => pod);
      const byCheck = (name: string) => own.filter((pod) => pod.metadata!.labels!['netcheck.dev/check'] === name);
      expect(byCheck('capture').length, `${level}: capture probe pods`).to.equal(level === 'privileged' ? 1 : 0);
      for (const pod of [...byCheck('tcp'), ...byCheck('icmp')]) {
        expect(pod.spec!.containers[0]!.securityContext, pod.metadata!.name).to.deep.include({ runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false });
        expect(pod.spec!.containers[0]!.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'] });
        expect(pod.spec!.securityContext!.sysctls).to.deep.equal([{ name: 'net.ipv4.ping_group_range', value: '65532 65532' }]);
      }
      expect(byCheck('tcp').length + byCheck('icmp').length, `${level}: probe pods seen`).to.be.at.least(2);
    }
  });

  it('where admission refuses the ICMP sysctl: retried without it, TCP Healthy with MTU Unknown (the reason), ICMP an Error that says why', async () => {
    const namespace = tenants.get('nosysctl')!;
    policyName = `e2e-no-sysctls-${namespace}`;
    await admission.createValidatingAdmissionPolicy({ body: {
      metadata: { name: policyName },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
        validations: [{ expression: '!has(object.spec.securityContext) || !has(object.spec.securityContext.sysctls) || size(object.spec.securityContext.sysctls) == 0', message: 'pods in this namespace may not set sysctls' }],
      },
    } });
    await admission.createValidatingAdmissionPolicyBinding({ body: {
      metadata: { name: policyName },
      spec: { policyName, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } } },
    } });
    // The policy takes effect within a moment: wait until a pod with a sysctl is refused.
    const probe = restrictedPod('sysctl-probe');
    probe.spec!.securityContext!.sysctls = [{ name: 'net.ipv4.ping_group_range', value: '65532 65532' }];
    await waitFor('the sysctl policy to refuse pods', async () =>
      cluster.core.createNamespacedPod({ namespace, body: probe, dryRun: 'All' }).then(() => false, (err: unknown) => refusalMessage(err).includes('may not set sysctls')), 30_000, 250);

    const client = new CheckClient(cluster, namespace);
    await client.create('tcp', specs().tcp);
    await client.create('icmp', specs().icmp);
    const tcp = await client.completedRun('tcp');
    expect(tcp.status!.result, describe_(tcp)).to.equal('Healthy');
    expect(condition(tcp, 'PathMTU')).to.deep.include({ status: 'Unknown', reason: 'NotProbed' });
    expect(condition(tcp, 'PathMTU')!.message).to.include('the cluster refused the probe pod\'s net.ipv4.ping_group_range sysctl');
    const icmp = await client.completedRun('icmp');
    expect(icmp.status!.result, describe_(icmp)).to.equal('Error');
    expect(icmp.status!.reason).to.equal('ICMPUnavailable');
    expect(icmp.status!.summary).to.include('could not ping').and.include('net.ipv4.ping_group_range');
  });
});
