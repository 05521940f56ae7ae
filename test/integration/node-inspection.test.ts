// Node inspection pods (--node-diagnostics) on a real API server, created by the real PodProbeStage as
// the operator's ServiceAccount with exactly the RBAC in config/: where they go (the operator
// namespace, one per node of the path, owned by the CRD), that Pod Security admission admits them
// there only at "privileged", that a restarted operator adopts them instead of duplicating them, and
// that deleting the check deletes them (nothing else would: no owner in the check's namespace).
// No kubelet runs in this tier: the pods stay Pending; their runs end to end are in
// test/e2e/node-diagnostics.test.ts.
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Manager } from '../../operator/controller/manager.ts';
import { silentLogger } from '../../operator/log.ts';
import { buildNodeInspectionPod } from '../../operator/probe/node-inspection.ts';
import { PodProbeStage } from '../../operator/probe/pods.ts';
import { buildNetworkCheck } from '../support/builders.ts';
import { waitFor } from '../support/cluster.ts';
import { controlPlane } from './hooks.ts';

const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';
const OPERATOR_NS = 'netcheck-system';
const NS = 'nodeinsp';
const IMAGE = 'docker.io/nicolaka/netshoot:v0.14@sha256:7381eb36fe1b88264c12d1e2585f5ade475624d0106ba6e216ac7e5c3159b7b9';

describe('node inspection pods on a real API server', function () {
  this.timeout(120_000);
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let manager: Manager | undefined;

  const identity = () => controlPlane().userKubeConfig('system:serviceaccount:netcheck-system:netcheck-operator', ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
  const startManager = async () => {
    const kubeConfig = identity();
    manager = new Manager({
      kubeConfig, log: silentLogger(), namespaces: [NS], workers: 1, operatorNamespace: OPERATOR_NS,
      nodeDiagnostics: { mode: 'OnFailure', namespaces: ['*'] },
      stage: new PodProbeStage({ core: kubeConfig.makeApiClient(CoreV1Api), crds: kubeConfig.makeApiClient(ApiextensionsV1Api), operatorNamespace: OPERATOR_NS, defaultImage: IMAGE, nodeInspection: true }),
      diagnose: () => { throw new Error('not reached: no kubelet runs the probe in this tier'); },
    });
    await manager.start();
    await manager.waitForSync();
  };
  const stopManager = async () => { await manager?.stop(); manager = undefined; };
  const inspectionPods = async () => (await core.listNamespacedPod({ namespace: OPERATOR_NS, labelSelector: 'netcheck.dev/role=node-inspection,netcheck.dev/check=web-to-backend' })).items;
  /** A pod as a kubelet would report it: Running, with an IP (and Ready). */
  const runningPod = async (name: string, labels: Record<string, string>, node: string, ip: string) => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name, namespace: NS, labels }, spec: { nodeName: node, containers: [{ name: 'c', image: 'example.invalid/app:1' }] } } });
    const pod = await core.readNamespacedPod({ name, namespace: NS });
    pod.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] };
    await core.replaceNamespacedPodStatus({ name, namespace: NS, body: pod });
  };

  before(async () => {
    const kc = controlPlane().kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    const deployed = controlPlane().kubectl(['apply', '--server-side', '-k', 'config/']);
    expect(deployed.code, deployed.stderr).to.equal(0);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await runningPod('web', { app: 'web' }, 'node-a', '10.244.0.9');
    await runningPod('backend-1', { app: 'backend' }, 'node-b', '10.244.1.5');
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'backend' }, spec: { selector: { app: 'backend' }, ports: [{ port: 8080 }] } } });
  });
  after(stopManager);

  it('creates one inspection pod per node of the path in the operator namespace, owned by the CRD; a restart adopts them; deleting the check deletes them', async () => {
    await startManager();
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: {
      apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name: 'web-to-backend', namespace: NS },
      spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } },
    } });
    const pods = await waitFor('two inspection pods', async () => { const found = await inspectionPods(); return found.length === 2 ? found : undefined; }, 20_000, 100);
    const crd = await controlPlane().kubeConfig().makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'networkchecks.netcheck.dev' });
    const service = await core.readNamespacedService({ name: 'backend', namespace: NS });
    expect(pods.map((pod) => pod.spec!.nodeName).sort()).to.deep.equal(['node-a', 'node-b']);
    for (const pod of pods) {
      expect(pod.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'networkchecks.netcheck.dev', uid: crd.metadata!.uid, controller: false, blockOwnerDeletion: false }]);
      expect(pod.spec!.hostNetwork).to.equal(true);
      expect(pod.spec!.containers[0]!.image).to.equal(IMAGE);
      expect(pod.spec!.containers[0]!.env).to.deep.include({ name: 'NETCHECK_SERVICE_IP', value: service.spec!.clusterIP });
    }
    const tenant = await core.listNamespacedPod({ namespace: NS, labelSelector: 'netcheck.dev/check=web-to-backend' });
    expect(tenant.items.map((pod) => pod.spec?.hostNetwork ?? false), 'the probe pod in the tenant namespace, never a hostNetwork one').to.deep.equal([false]);

    const names = pods.map((pod) => pod.metadata!.name).sort();
    await stopManager();
    await startManager();
    // The restarted operator follows the run (it observes, and would create what is missing): still the same two.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await inspectionPods()).map((pod) => pod.metadata!.name).sort()).to.deep.equal(names);

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: 'web-to-backend' });
    await waitFor('the inspection pods to be deleted with their check', async () => (await inspectionPods()).length === 0 || undefined, 20_000, 100);
    await stopManager();
  });

  it('is admitted by Pod Security only at privileged, the level the operator asks of its namespace before planning one', async () => {
    const check = buildNetworkCheck('c', NS, { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
    check.metadata = { ...check.metadata, uid: '1f0c8c5e-0000-4000-8000-000000000002' };
    const refused: Record<string, string | undefined> = {};
    for (const level of ['restricted', 'baseline', 'privileged']) {
      const namespace = `insp-${level}`;
      await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': level } } } });
      const pod: V1Pod = buildNodeInspectionPod(check, 'g1-x', { node: 'node-a', serviceIp: '10.96.0.5' }, { operatorNamespace: namespace, image: IMAGE, script: 'exit 0' });
      refused[level] = await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' }).then(() => undefined, (err: { body?: string }) => String((JSON.parse(String(err.body)) as { message: string }).message));
    }
    expect(refused.privileged).to.equal(undefined);
    expect(refused.baseline).to.include('violates PodSecurity "baseline:latest"').and.include('host namespaces (hostNetwork=true)');
    expect(refused.restricted).to.include('violates PodSecurity "restricted:latest"');
  });
});
