// The operator as users run it, on a real API server: `node operator/main.ts` as a process (health,
// readiness and metrics endpoints, graceful SIGTERM), Lease leader election between two candidates,
// and the stall watchdog turning /healthz red while the API server is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Informer } from '../../operator/controller/informer.ts';
import { KubeClients } from '../../operator/controller/kube.ts';
import { LeaderElector } from '../../operator/controller/leader.ts';
import { silentLogger } from '../../operator/log.ts';
import { freePort } from '../support/apiserver.ts';
import { waitFor } from '../support/cluster.ts';
import { controlPlane } from './hooks.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
};

describe('the operator process on a real API server', function () {
  this.timeout(120_000);

  it('serves /healthz, /readyz and /metrics, reconciles, and stops gracefully on SIGTERM', async () => {
    const plane = controlPlane();
    plane.kubectl(['create', 'namespace', 'proc-test']);
    plane.kubectl(['create', 'namespace', 'netcheck-system']);
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['operator/main.ts', `--metrics-port=${port}`, '--namespaces=proc-test', '--leader-elect', '--log-level=info'], {
      cwd: repoRoot, env: { ...process.env, KUBECONFIG: plane.kubeconfigPath, POD_NAMESPACE: 'netcheck-system' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout!.on('data', (d) => { logs += d; });
    child.stderr!.on('data', (d) => { logs += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('/readyz', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 30_000, 100);
      expect((await get(port, '/healthz')).status).to.equal(200);
      const custom = plane.kubeConfig().makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace: 'proc-test', plural: 'networkchecks',
        body: { apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', metadata: { name: 'orphan' }, spec: { source: { pod: 'missing' }, destination: { service: 'missing', port: 80 } } } });
      const check = await waitFor('status from the process', async () => {
        const c = await custom.getNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace: 'proc-test', plural: 'networkchecks', name: 'orphan' });
        return c.status?.reason ? c : undefined;
      }, 15_000, 100);
      expect(check.status.reason).to.equal('SourceNotFound');
      const metrics = (await get(port, '/metrics')).text;
      expect(metrics).to.match(/^netcheck_reconcile_total\{result="success"\} [1-9]/m);
      expect(metrics).to.include('netcheck_workqueue_depth');
      expect(metrics).to.include('netcheck_watch_restarts_total');
      expect(metrics).to.include('process_resident_memory_bytes');
      // JSON logs, capitalised past-tense messages with the controller fields.
      const line = logs.split('\n').find((l) => l.includes('"Started controller"'));
      expect(JSON.parse(line!)).to.include({ controller: 'networkcheck', level: 'info' });
      const lease = JSON.parse(plane.kubectl(['get', 'lease', '-n', 'netcheck-system', 'netcheck-operator-leader', '-o', 'json']).stdout);
      expect(lease.spec.holderIdentity).to.be.a('string').and.not.equal('');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 20_000))]);
    expect(code, logs.slice(-2000)).to.equal(0);
    expect(logs).to.include('Stopped controller');
    // The lease was released on the way out, so a successor need not wait for it to expire.
    const lease = JSON.parse(plane.kubectl(['get', 'lease', '-n', 'netcheck-system', 'netcheck-operator-leader', '-o', 'json']).stdout);
    expect(lease.spec.holderIdentity ?? '').to.equal('');
  });

  it('lets only one of two candidates lead, and hands over when the leader releases', async () => {
    const plane = controlPlane();
    plane.kubectl(['create', 'namespace', 'lease-test']);
    const options = { namespace: 'lease-test', name: 'election', leaseDurationSeconds: 3, renewDeadlineMs: 2_000, retryPeriodMs: 200 };
    const a = new LeaderElector(plane.kubeConfig(), { ...options, identity: 'a' }, silentLogger());
    const b = new LeaderElector(plane.kubeConfig(), { ...options, identity: 'b' }, silentLogger());
    const lostA = { value: false };
    await a.run(() => { lostA.value = true; });
    let bLeads = false;
    const bRun = b.run(() => undefined).then(() => { bLeads = true; });
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(a.isLeader()).to.equal(true);
    expect(bLeads, 'b must not lead while a renews').to.equal(false);
    expect(lostA.value).to.equal(false);
    await a.release();
    await waitFor('b to take over', async () => (bLeads ? true : undefined), 10_000, 100);
    await bRun;
    expect(b.isLeader()).to.equal(true);
    expect(a.isLeader()).to.equal(false);
    await b.release();
  });

  it('turns unhealthy when its watch stays down past the stall timeout, and recovers', async () => {
    const plane = controlPlane();
    const clients = new KubeClients(plane.kubeConfig());
    const source = clients.podSource('default');
    const informer = new Informer<V1Pod>('pods', plane.kubeConfig(), source.path, source.list, silentLogger(), { stallTimeoutMs: 1_000 });
    await informer.start();
    await informer.waitForSync();
    expect(informer.healthy()).to.equal(true);
    await plane.stopApiServer();
    try {
      await waitFor('unhealthy while the API server is down', async () => (informer.healthy() ? undefined : true), 20_000, 100);
    } finally {
      await plane.startApiServer();
    }
    await waitFor('healthy again', async () => (informer.healthy() ? true : undefined), 60_000, 100);
    informer.stop();
  });
});
