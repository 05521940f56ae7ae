// The operator end to end on the local cluster: the real controller in this process, real probe pods
// on a real kubelet, the real diagnosis, and each fault injected for real (kube-proxy stopped, CoreDNS
// at zero, a lowered MTU, NetworkPolicies enforced by the node...). Each test asserts the check's
// result, failedLayer and reason after one run.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, useUndos, waitFor, type Backend } from '../support/cluster.ts';
import { CheckClient, startClusterOperator } from '../support/operator.ts';
import { ephemeralContainerName } from '../../operator/probe/pods.ts';

describe('operator end to end on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let checks = undefined as unknown as CheckClient; // set in before()
  let manager: Manager | undefined;
  let namespace: string;
  let backend: Backend;
  let sourcePod: V1Pod;
  const undos = useUndos();
  let counter = 0;

  // The operator's admin allows one more image, so that a probe image that cannot be pulled is testable.
  const MISSING_IMAGE = 'localhost/netcheck-missing:0';
  const startOperator = async () => { manager = await startClusterOperator(cluster, [namespace], { allowedImages: [MISSING_IMAGE] }); };
  const stopOperator = async () => { await manager?.stop(); manager = undefined; };

  const getCheck = (name: string) => checks.get(name);

  /** Creates a check and waits until a run for its generation completed. */
  const runCheck = async (prefix: string, spec: NetworkCheckSpec, timeoutMs = 120_000): Promise<NetworkCheck> => {
    const name = `${prefix}-${++counter}`;
    await checks.create(name, spec);
    return checks.completedRun(name, undefined, timeoutMs);
  };

  const describeCheck = (check: NetworkCheck) => `${check.status?.result}/${check.status?.failedLayer}/${check.status?.reason}: ${check.status?.summary}`;
  const toService = (port: number | string = BACKEND_PORTS.http.service): NetworkCheckSpec => ({ source: { pod: 'web' }, destination: { service: backend.name, port } });

  before(async () => {
    cluster = await TestCluster.connect();
    namespace = await cluster.createNamespace('e2e-op');
    checks = new CheckClient(cluster, namespace);
    backend = await cluster.createBackend({ namespace, name: 'backend', replicas: 2 });
    sourcePod = await cluster.startPod({ namespace, name: 'web', labels: { app: 'web', tier: 'front' } });
    await startOperator();
  });

  after(async () => {
    await stopOperator();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('runs a healthy pod -> Service check in a real probe pod, placed and secured as specified, then removes it', async () => {
    const seen = new Map<string, V1Pod>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/managed-by=netcheck-operator' }).catch(() => undefined);
        for (const pod of pods?.items ?? []) seen.set(pod.metadata!.name!, pod);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const check = await runCheck('healthy', toService());
    watching = false;
    await watcher;
    expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
    expect(check.status!.reason).to.equal('Reachable');
    expect(check.status!.failedLayer).to.equal(undefined);
    const layers = Object.fromEntries(check.status!.conditions!.map((c) => [c.type, c.status]));
    expect(layers).to.include({ Ready: 'True', Stalled: 'False', Reconciling: 'False', DNSResolved: 'True', EndpointsReady: 'True', ServiceReachable: 'True', PodReachable: 'True' });

    const probes = [...seen.values()].filter((p) => p.metadata?.labels?.['netcheck.dev/check'] === check.metadata!.name);
    expect(probes, 'probe pods seen during the run').to.have.length(1);
    const probe = probes[0]!;
    expect(probe.metadata!.labels).to.include({ app: 'web', tier: 'front', 'netcheck.dev/run': check.status!.lastRun!.id, 'app.kubernetes.io/managed-by': 'netcheck-operator' });
    expect(probe.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', name: check.metadata!.name, uid: check.metadata!.uid, controller: true, blockOwnerDeletion: false }]);
    expect(probe.spec!.nodeName).to.equal(sourcePod.spec!.nodeName);
    const security = probe.spec!.containers[0]!.securityContext!;
    expect(security.capabilities).to.deep.equal({ drop: ['ALL'] });
    expect(security).to.deep.include({ allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65532 });
    expect(probe.spec!.containers[0]!.image, 'the operator\'s image, pinned by digest').to.match(/^docker\.io\/nicolaka\/netshoot:v0\.14@sha256:[0-9a-f]{64}$/);
    expect(probe.spec!.readinessGates).to.deep.equal([{ conditionType: 'netcheck.dev/never-ready' }]);
    expect(probe.spec!.hostNetwork ?? false).to.equal(false);
    expect(check.status!.lastRun!.probePods).to.deep.equal([probe.metadata!.name]);

    await waitFor('probe pods to be deleted after the run', async () => {
      const left = await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${check.metadata!.name}` });
      return left.items.length === 0;
    }, 30_000);
  });

  it('probes from inside the source pod with via: Ephemeral', async () => {
    const check = await runCheck('ephemeral', { source: { pod: 'web', via: 'Ephemeral' }, destination: { service: backend.name, port: BACKEND_PORTS.http.service } });
    expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
    const web = await cluster.core.readNamespacedPod({ name: 'web', namespace });
    const added = web.spec!.ephemeralContainers!.find((c) => c.name === ephemeralContainerName(check.status!.lastRun!.id!, check.metadata!.name!));
    expect(added, 'the ephemeral probe container in the source pod').to.not.equal(undefined);
    expect(added!.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'] });
    expect(added!.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false });
    const state = web.status!.ephemeralContainerStatuses!.find((c) => c.name === added!.name)!.state!;
    expect(state.terminated?.exitCode).to.equal(0);
    // No probe pod was created for this check.
    expect((await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${check.metadata!.name}` })).items).to.have.length(0);
  });

  it('names a Service selector that matches no pods', async () => {
    undos.push(await cluster.mislabelBackends(namespace, backend.name));
    const check = await runCheck('selector', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('Endpoints');
    expect(check.status!.reason).to.equal('SelectorMismatch');
    expect(check.status!.summary).to.include('app=backend');
  });

  it('names a targetPort nothing declares', async () => {
    await cluster.core.createNamespacedService({ namespace, body: { metadata: { name: 'wrong-port' }, spec: { selector: backend.labels, ports: [{ name: 'http', port: 80, targetPort: 8081 }] } } });
    const check = await runCheck('targetport', { source: { pod: 'web' }, destination: { service: 'wrong-port', port: 80 } });
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('PodIP');
    expect(check.status!.reason).to.equal('TargetPortMismatch');
  });

  /** A Deployment of the test server with its own Service, shaped by the caller (no readiness wait). */
  const createWorkload = async (name: string, container: Partial<V1Container>, servicePort: { port: number; targetPort: number | string }) => {
    const labels = { app: name };
    await cluster.apps.createNamespacedDeployment({ namespace, body: {
      metadata: { name, labels },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'server', image: cluster.testServerImage, imagePullPolicy: 'IfNotPresent', ...container }] } } },
    } });
    await cluster.core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: labels, ports: [{ name: 'main', ...servicePort }] } } });
    return await waitFor(`pod of ${name} running`, async () => {
      const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
      return pods.items.find((p) => p.status?.phase === 'Running');
    }, 60_000);
  };

  it('names backends that are not ready', async () => {
    // The readiness probe asks a port nothing listens on: the pod runs, but never becomes ready.
    await createWorkload('unready', { ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 } }, { port: 80, targetPort: 'http' });
    await waitFor('a not-ready endpoint', async () => {
      const slices = await cluster.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=unready' });
      return slices.items.some((slice) => (slice.endpoints ?? []).some((e) => e.conditions?.ready === false));
    }, 60_000);
    const check = await runCheck('unready', { source: { pod: 'web' }, destination: { service: 'unready', port: 80 } });
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('Endpoints');
    expect(check.status!.reason).to.equal('EndpointsNotReady');
  });

  it('names an app that does not listen on the port its pod declares', async () => {
    // The container declares port 7070, but the test server listens on 8080, 9000 and 9001 only.
    await createWorkload('silent', { ports: [{ name: 'app', containerPort: 7070 }, { name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }, { port: 80, targetPort: 'app' });
    await cluster.waitForEndpoints(namespace, 'silent', 1, 60_000);
    const check = await runCheck('silent', { source: { pod: 'web' }, destination: { service: 'silent', port: 80 } });
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('PodIP');
    expect(check.status!.reason).to.equal('PortNotListening');
  });

  it('reports CoreDNS scaled to zero as the DNS server being unavailable', async () => {
    undos.push(await cluster.scaleCoreDnsToZero());
    const check = await runCheck('coredns', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('DNS');
    expect(check.status!.reason).to.equal('DNSServerUnavailable');
  });

  it('names the policy that blocks the port', async () => {
    undos.push(await cluster.createNetworkPolicy(namespace, {
      metadata: { name: 'backend-allow-frontend' },
      spec: { podSelector: { matchLabels: backend.labels }, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: BACKEND_PORTS.http.container }] }] },
    }));
    const check = await runCheck('policy', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('NetworkPolicy');
    expect(check.status!.reason).to.equal('BlockedByNetworkPolicy');
    expect(check.status!.summary).to.include('backend-allow-frontend');
  });

  it('finds a default-deny egress policy that leaves no room for DNS', async () => {
    undos.push(await cluster.addDenyAllPolicy(namespace, { podSelector: { app: 'web' }, types: ['Egress'], name: 'web-deny-egress' }));
    const check = await runCheck('dnsegress', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('NetworkPolicy');
    expect(check.status!.reason).to.equal('DNSEgressBlockedByPolicy');
    expect(check.status!.summary).to.include('web-deny-egress');
  });

  it('is Healthy when expect: Blocked meets a blocked path, and Unhealthy when the path is open', async () => {
    const undo = await cluster.addDenyAllPolicy(namespace, { podSelector: backend.labels, types: ['Ingress'], name: 'backend-deny-all' });
    undos.push(undo);
    const blocked = await runCheck('expectblocked', { ...toService(), expect: 'Blocked' });
    expect(blocked.status!.result, describeCheck(blocked)).to.equal('Healthy');
    expect(blocked.status!.reason).to.equal('BlockedAsExpected');
    expect(blocked.status!.summary).to.include('backend-deny-all');
    await undo();
    const open = await runCheck('expectblocked', { ...toService(), expect: 'Blocked' });
    expect(open.status!.result, describeCheck(open)).to.equal('Unhealthy');
    expect(open.status!.failedLayer).to.equal('NetworkPolicy');
    expect(['NoPolicyIsolates', 'AllowedByNetworkPolicy', 'PolicyNotEnforced']).to.include(open.status!.reason);
  });

  it('finds an MTU lowered on the destination pod interface', async () => {
    for (const pod of backend.podNames) undos.push(await cluster.lowerPodMtu(namespace, pod, 1200));
    const check = await runCheck('mtu', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('MTU');
    expect(check.status!.reason).to.equal('MTUMismatch');
  });

  it('blames the service proxy when kube-proxy is stopped: the ClusterIP fails while pod IPs work', async () => {
    undos.push(await cluster.stopKubeProxy({ flushRules: true }));
    const check = await runCheck('kubeproxy', toService());
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer).to.equal('Service');
    expect(check.status!.reason).to.equal('ServiceProxyMissing');
  });

  it('reports a probe image that cannot be pulled as ProbeFailed within 60 s', async () => {
    const started = Date.now();
    const check = await runCheck('noimage', { ...toService(), probe: { image: MISSING_IMAGE, imagePullPolicy: 'Never' } }, 60_000);
    expect(Date.now() - started).to.be.below(60_000);
    expect(check.status!.result, describeCheck(check)).to.equal('Error');
    expect(check.status!.reason).to.equal('ProbeFailed');
    expect(check.status!.summary).to.include('ErrImageNeverPull');
  });

  it('adopts a run in flight across an operator restart: no duplicate run, no orphan pod', async () => {
    const name = `restart-${++counter}`;
    await checks.create(name, toService());
    const running = await waitFor('the run to be recorded and its pod created', async () => {
      const check = await getCheck(name);
      const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${name}` });
      return check.status?.lastRun?.id && !check.status.lastRun.completionTime && pods.items.length > 0 ? check : undefined;
    }, 60_000, 50);
    const runId = running.status!.lastRun!.id!;
    await stopOperator();
    await startOperator();
    const done = await waitFor('the adopted run to complete', async () => {
      const check = await getCheck(name);
      return check.status?.lastRun?.completionTime ? check : undefined;
    }, 120_000, 250);
    expect(done.status!.lastRun!.id, 'the same run finished').to.equal(runId);
    expect(done.status!.history, 'one run in history').to.have.length(1);
    expect(done.status!.result, describeCheck(done)).to.equal('Healthy');
    await waitFor('no probe pod left behind', async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${name}` })).items.length === 0, 30_000);
  });
});
