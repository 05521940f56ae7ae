// The kubectl plugin against a real API server, as a tenant with only the NetworkCheck editor role in
// one namespace (config/rbac: netcheck-networkcheck-editor): `run` creates, watches and deletes its
// check with the user's rights, exits with the verdict's code, reports a stalled check, and is refused
// where the user has no rights; `test -f`, `get` and `describe` read what the operator wrote. The
// probe stage is stubbed at its interface (no kubelet here); the controller and the diagnosis are real.
// The plugin runs as the npm bin bundle in a child process, never in this process.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { bundle } from '../../cli/build/bundle.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { Manager } from '../../operator/controller/manager.ts';
import { createDiagnose } from '../../operator/diagnosis/index.ts';
import { silentLogger } from '../../operator/log.ts';
import { buildEndpointSlice, buildNode, buildPod } from '../support/builders.ts';
import { StubProbeStage, serviceProbe } from '../support/stub-stage.ts';
import { controlPlane } from './hooks.ts';

const NAMESPACE = 'cli-tenant';
const NODE = 'cli-node-a';

interface Ran { code: number; stdout: string; stderr: string }

describe('kubectl netcheck against a real API server, with a tenant\'s rights', function () {
  this.timeout(120_000);
  let manager: Manager | undefined;
  let bin: string;
  const work = mkdtempSync(join(tmpdir(), 'netcheck-cli-int-'));
  const kubeconfigs: Record<string, string> = {};

  const plugin = (user: string, args: string[]): Promise<Ran> => new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: work, env: { PATH: process.env.PATH, KUBECONFIG: kubeconfigs[user], HOME: work }, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
  const remaining = async () => {
    const list = await controlPlane().kubeConfig().makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'networkchecks' }) as { items: { metadata: { name: string } }[] };
    return list.items.map((item) => item.metadata.name);
  };

  before(async function () {
    this.timeout(120_000);
    const plane = controlPlane();
    const kc = plane.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    expect(plane.kubectl(['apply', '--server-side', '-k', 'config/']).code).to.equal(0);
    plane.kubectl(['create', 'namespace', NAMESPACE]);
    // alice may edit NetworkChecks in the namespace and nothing else; mallory may do nothing.
    expect(plane.kubectl(['-n', NAMESPACE, 'create', 'rolebinding', 'alice-checks', '--clusterrole=netcheck-networkcheck-editor', '--user=alice']).code).to.equal(0);
    for (const user of ['alice', 'mallory']) {
      plane.userKubeConfig(user, ['system:authenticated']);
      kubeconfigs[user] = join(plane.kubeconfigPath, '..', `${user}.kubeconfig`);
    }
    const running = async (pod: V1Pod) => {
      const { status, ...spec } = pod;
      await core.createNamespacedPod({ namespace: NAMESPACE, body: spec });
      const current = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE });
      await core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: NAMESPACE, body: { ...current, status } });
    };
    await core.createNode({ body: buildNode(NODE, { internalIP: '172.30.1.2', podCIDR: '10.244.9.0/24' }) });
    await running(buildPod('web', { namespace: NAMESPACE, labels: { app: 'web' }, ip: '10.244.9.10', nodeName: NODE }));
    await running(buildPod('backend-1', { namespace: NAMESPACE, labels: { app: 'backend' }, ip: '10.244.9.21', nodeName: NODE, ports: [{ containerPort: 8080, name: 'http' }] }));
    await core.createNamespacedService({ namespace: NAMESPACE, body: { metadata: { name: 'backend' }, spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } } });
    await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({ namespace: NAMESPACE, body: buildEndpointSlice('backend', NAMESPACE, [{ ip: '10.244.9.21', nodeName: NODE, podName: 'backend-1' }], [{ port: 8080, name: 'http' }]) });
    await core.createNamespacedService({ namespace: NAMESPACE, body: { metadata: { name: 'no-backends' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 8080, targetPort: 8080 }] } } });

    const operator = plane.userKubeConfig('system:serviceaccount:netcheck-system:netcheck-operator', ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
    // Without endpoints kube-proxy rejects the ClusterIP: the stub's probe is refused there.
    const stage = new StubProbeStage({ runDurationMs: 500, nodeName: NODE, defaultScript: (request) => serviceProbe(request, request.spec.destination.service === 'no-backends' ? 'refused' : 'ok', NODE) });
    manager = new Manager({ kubeConfig: operator, log: silentLogger(), stage, diagnose: createDiagnose(operator), namespaces: [NAMESPACE], workers: 2 });
    await manager.start();
    await manager.waitForSync();
    bin = await bundle();
  });

  after(async () => {
    await manager?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('run on a healthy path: exit 0, the verdict and the path printed, the check deleted', async () => {
    const ran = await plugin('alice', ['run', '--from', 'pod/web', '--to', 'svc/backend:8080', '-n', NAMESPACE]);
    expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
    expect(ran.stdout).to.match(/^✓ Healthy Reachable +pod\/web -> svc\/backend:8080 TCP/m);
    expect(ran.stdout).to.match(/^✓ DNS +NameResolved: /m);
    expect(ran.stdout).to.match(new RegExp(`^✓ Service ${NAMESPACE}/backend +\\S+:8080 +connected in \\d+ ms`, 'm'));
    expect(ran.stdout).to.match(/└─▶ ✓ pod backend-1 +10\.244\.9\.21:8080/);
    expect(await remaining()).to.deep.equal([]);
  });

  it('run to a Service without endpoints: exit 1 and the Service marked', async () => {
    const ran = await plugin('alice', ['run', '--from', 'pod/web', '--to', 'svc/no-backends:8080', '-n', NAMESPACE, '--keep']);
    expect(ran.code, ran.stdout + ran.stderr).to.equal(1);
    expect(ran.stdout).to.match(new RegExp(`^✗ Service ${NAMESPACE}/no-backends .*◀ root cause`, 'm'));
    const kept = await remaining();
    expect(kept, '--keep keeps it').to.have.length(1);
    // The API server kept status.path (the CRD schema admits it, nothing is pruned): the drawing's source.
    const stored = await controlPlane().kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'networkchecks', name: kept[0]! }) as NetworkCheck;
    const hops = stored.status?.path?.hops ?? [];
    expect(hops.map((hop) => hop.kind)).to.deep.equal(['Source', 'DNS', 'Service', 'Proxy']);
    expect(hops[0]).to.include({ name: `pod ${NAMESPACE}/web`, address: '10.244.9.10', node: NODE, result: 'Ok' });
    expect(hops[2]).to.include({ name: `${NAMESPACE}/no-backends`, layer: 'Endpoints', result: 'Failed', rootCause: true });
    const got = await plugin('alice', ['get', '-n', NAMESPACE]);
    expect(got.stdout).to.match(new RegExp(`^${kept[0]} +pod/web +svc/no-backends:8080 +TCP +Unhealthy +Endpoints +\\w+ +✗ +<none>`, 'm'));
    const described = await plugin('alice', ['describe', kept[0]!, '-n', NAMESPACE]);
    expect(described.code, described.stderr).to.equal(0);
    expect(described.stdout).to.match(/├─ ✗ Endpoints +(NoEndpoints|SelectorMismatch)/);
    expect(described.stdout).to.match(/^History: +✗ /m);
    expect(await plugin('alice', ['pcap', kept[0]!, '-n', NAMESPACE])).to.include({ code: 2 }).and.have.property('stderr').that.match(/has no capture/);
  });

  it('a source that does not exist: the stalled check is reported with exit 2 and deleted', async () => {
    const ran = await plugin('alice', ['run', '--from', 'pod/ghost', '--to', 'svc/backend:8080', '-n', NAMESPACE]);
    expect(ran.code).to.equal(2);
    expect(ran.stderr).to.match(/stalled: SourceNotFound: spec\.source\.pod: pod cli-tenant\/ghost was not found/);
    expect((await remaining()).filter((name) => name.startsWith('ghost-')), 'only the check kept by --keep above remains').to.deep.equal([]);
  });

  it('a user without rights is refused by the API server, not by the plugin: exit 2 with its message', async () => {
    const ran = await plugin('mallory', ['run', '--from', 'pod/web', '--to', 'svc/backend:8080', '-n', NAMESPACE]);
    expect(ran.code).to.equal(2);
    expect(ran.stderr).to.match(/create networkcheck: .*forbidden: User "mallory" cannot create resource "networkchecks"/);
  });

  it('test -f: three checks concurrently, JUnit on stdout, exit 1 for the failing one', async () => {
    const suite = join(work, 'suite.yaml');
    writeFileSync(suite, 'checks:\n  - { name: ok-1, from: pod/web, to: "svc/backend:8080" }\n  - { name: ok-2, from: pod/web, to: svc/backend, protocol: DNS }\n  - { name: empty, from: pod/web, to: "svc/no-backends:8080" }\n');
    const ran = await plugin('alice', ['test', '-f', suite, '-n', NAMESPACE]);
    expect(ran.code, ran.stderr).to.equal(1);
    expect(ran.stdout).to.match(/tests="3" failures="1" errors="0"/);
    expect(ran.stdout).to.match(/<testcase name="empty"[^>]*>\s*<failure message="Endpoints\//);
    expect(ran.stderr).to.include('3 checks: 2 passed, 1 failed, 0 errored');
    const tap = await plugin('alice', ['test', '-f', suite, '-n', NAMESPACE, '-o', 'tap']);
    expect(tap.stdout.split('\n').slice(0, 2)).to.deep.equal(['TAP version 14', '1..3']);
  });
});
