// Packet captures end to end on the local cluster: tcpdump runs in the real probe pod alongside the
// probes, the operator reads the pcap from the pod log, analyses it, keeps it in a Secret owned by
// the check (or discards it), and prunes it with the history. The extraction command in status is
// run as a user would paste it, and its output must open with tcpdump -r.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, useUndos, waitFor, type Backend } from '../support/cluster.ts';
import { CheckClient, GROUP, PLURAL, VERSION, startClusterOperator } from '../support/operator.ts';

describe('packet capture end to end on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let checks: CheckClient;
  let manager: Manager | undefined;
  let namespace: string;
  let backend: Backend;
  // A namespace the checks' tenant does not own (the operator watches it, as a cluster-wide one would).
  let other: string;
  let elsewhere: Backend;
  const undos = useUndos();
  let counter = 0;
  const workDir = mkdtempSync(join(tmpdir(), 'netcheck-capture-e2e-'));

  const completedRun = (name: string, generation?: number) => checks.completedRun(name, generation);
  const runCheck = async (prefix: string, spec: NetworkCheckSpec): Promise<NetworkCheck> => {
    const name = `${prefix}-${++counter}`;
    await checks.create(name, spec);
    return completedRun(name);
  };
  const toService = (capture: NetworkCheckSpec['capture']): NetworkCheckSpec => ({
    source: { pod: 'web' }, destination: { service: backend.name, port: BACKEND_PORTS.http.service }, timeoutSeconds: 2, capture,
  });
  const secretExists = async (name: string) => {
    try {
      await cluster.core.readNamespacedSecret({ name, namespace });
      return true;
    } catch {
      return false;
    }
  };
  /** Runs the status's extraction command as a user would paste it, in a scratch directory. */
  const extract = (command: string): string => {
    const dir = mkdtempSync(join(workDir, 'extract-'));
    const kubectlDir = cluster.info!.kubectl.replace(/\/[^/]+$/, '');
    execFileSync('bash', ['-c', command], { cwd: dir, env: { ...process.env, KUBECONFIG: cluster.info!.kubeconfigPath, PATH: `${kubectlDir}:${process.env.PATH}` }, stdio: 'pipe' });
    return join(dir, 'capture.pcap');
  };

  before(async () => {
    cluster = await TestCluster.connect();
    namespace = await cluster.createNamespace('e2e-cap');
    other = await cluster.createNamespace('e2e-cap-other');
    checks = new CheckClient(cluster, namespace);
    [backend, , elsewhere] = await Promise.all([
      cluster.createBackend({ namespace, name: 'backend', replicas: 1 }),
      cluster.startPod({ namespace, name: 'web', labels: { app: 'web' } }),
      cluster.createBackend({ namespace: other, name: 'elsewhere', replicas: 1 }),
    ]);
    manager = await startClusterOperator(cluster, [namespace, other]);
  });

  after(async () => {
    await manager?.stop();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
    if (other) await cluster.deleteNamespace(other, { wait: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps the capture of dropped SYNs (NoSynAck) in a Secret owned by the check; the status command extracts a pcap tcpdump -r opens', async () => {
    undos.push(await cluster.dropTraffic({ pod: { namespace, name: backend.podNames[0]! }, direction: 'ingress', protocol: 'tcp', port: BACKEND_PORTS.http.container }));
    const check = await runCheck('synlost', toService({ when: 'OnFailure' }));
    expect(check.status!.result, check.status!.summary).to.equal('Unhealthy');
    const capture = check.status!.capture!;
    expect(capture.runId).to.equal(check.status!.lastRun!.id);
    expect(capture.state, JSON.stringify(capture)).to.equal('Kept');
    const point = capture.points![0]!;
    expect(point, JSON.stringify(point)).to.include({ point: 'Source', reason: 'NoSynAck' });
    expect(point.tcp!.syn, 'SYNs, to the ClusterIP and the pod IP, with retransmissions').to.be.at.least(2);
    expect(point.tcp!.synAck).to.equal(0);
    expect(check.status!.history![0]!.captureSecrets).to.deep.equal([point.secret]);

    const secret = await cluster.core.readNamespacedSecret({ name: point.secret!, namespace });
    expect(secret.type).to.equal('netcheck.dev/capture');
    expect(secret.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', name: check.metadata!.name, uid: check.metadata!.uid, controller: true, blockOwnerDeletion: true }]);

    const file = extract(point.extract!);
    expect(readFileSync(file).byteLength).to.equal(point.bytes);
    const read = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const syns = read.split('\n').filter((line) => line.includes(`.${BACKEND_PORTS.http.container}: Flags [S]`) || line.includes(`.${BACKEND_PORTS.http.service}: Flags [S]`));
    expect(syns.length, read).to.be.at.least(2);
    expect(read).to.not.include('Flags [S.]');
  });

  it('discards the capture of a healthy run under OnFailure, and keeps it under Always', async () => {
    const discarded = await runCheck('healthy', toService({ when: 'OnFailure' }));
    expect(discarded.status!.result, discarded.status!.summary).to.equal('Healthy');
    expect(discarded.status!.capture!.state).to.equal('Discarded');
    expect(discarded.status!.capture!.points![0]!.reason).to.equal('Healthy');
    expect(discarded.status!.capture!.points![0]!.secret).to.equal(undefined);
    expect(discarded.status!.history![0]!.captureSecrets).to.equal(undefined);

    const kept = await runCheck('always', toService({ when: 'Always' }));
    expect(kept.status!.capture!.state).to.equal('Kept');
    expect(await secretExists(kept.status!.capture!.points![0]!.secret!)).to.equal(true);
  });

  it('names the RST of a port nothing listens on (ConnectionReset)', async () => {
    const check = await runCheck('reset', {
      source: { pod: 'web' }, destination: { pod: backend.podNames[0]!, port: 7070 }, timeoutSeconds: 2, capture: { when: 'OnFailure' },
    });
    expect(check.status!.result, check.status!.summary).to.equal('Unhealthy');
    expect(check.status!.capture!.points![0]).to.include({ reason: 'ConnectionReset' });
    expect(check.status!.capture!.points![0]!.tcp!.rst).to.be.at.least(1);
  });

  it('prunes capture Secrets with the history, and deleting the check deletes the rest', async () => {
    const first = await runCheck('pruned', { ...toService({ when: 'Always' }), historyLimit: 1 });
    const firstSecret = first.status!.capture!.points![0]!.secret!;
    expect(await secretExists(firstSecret)).to.equal(true);
    // A spec change is a new generation, so a second run; historyLimit 1 drops the first run's entry.
    await checks.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: first.metadata!.name!, body: [{ op: 'replace', path: '/spec/timeoutSeconds', value: 3 }] });
    const second = await completedRun(first.metadata!.name!, (first.metadata!.generation ?? 1) + 1);
    const secondSecret = second.status!.capture!.points![0]!.secret!;
    expect(secondSecret).to.not.equal(firstSecret);
    expect(second.status!.history).to.have.length(1);
    expect(await secretExists(firstSecret), 'the first run\'s Secret after its entry left the history').to.equal(false);
    expect(await secretExists(secondSecret)).to.equal(true);

    await checks.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: first.metadata!.name! });
    await waitFor('the garbage collector to delete the owned capture Secret', async () => !(await secretExists(secondSecret)), 60_000, 250);
  });

  it('with destination capture, sees the SYN-ACK leave the destination and never reach the source (ClientDidNotReceiveReply)', async () => {
    const backendPod = await cluster.core.readNamespacedPod({ name: backend.podNames[0]!, namespace });
    // On the node, drop everything the backend sends through FORWARD: its SYN-ACKs leave the pod
    // (its capture sees them) but never arrive in the probe pod.
    undos.push(await cluster.dropTraffic({ protocol: 'tcp', source: backendPod.status!.podIP!, node: backendPod.spec!.nodeName! }));
    const check = await runCheck('replylost', {
      source: { pod: 'web' }, destination: { pod: backend.podNames[0]!, port: BACKEND_PORTS.http.container }, timeoutSeconds: 2,
      capture: { when: 'OnFailure', destination: true, durationSeconds: 8 },
    });
    expect(check.status!.result, check.status!.summary).to.equal('Unhealthy');
    const capture = check.status!.capture!;
    const byPoint = Object.fromEntries(capture.points!.map((p) => [p.point, p]));
    expect(byPoint.Source, JSON.stringify(capture)).to.include({ reason: 'NoSynAck' });
    expect(byPoint.Destination!.pod).to.equal(backend.podNames[0]);
    expect(byPoint.Destination!.tcp!.synAck, JSON.stringify(byPoint.Destination)).to.be.at.least(1);
    expect(capture.conclusion).to.match(/^ClientDidNotReceiveReply: /);
    expect(await secretExists(byPoint.Destination!.secret!)).to.equal(true);
    const updated = await cluster.core.readNamespacedPod({ name: backend.podNames[0]!, namespace });
    const container = updated.spec!.ephemeralContainers!.find((c) => c.name === `netcheck-cap-${check.status!.lastRun!.id}`)!;
    expect(container.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'SETUID', 'SETGID'] });
  });

  it('never captures in another namespace: a tenant\'s destination capture there is refused and reported', async () => {
    const check = await runCheck('tenant', {
      source: { pod: 'web' }, destination: { service: elsewhere.name, namespace: other, port: BACKEND_PORTS.http.service }, timeoutSeconds: 2,
      capture: { when: 'Always', destination: true, durationSeconds: 3 },
    });
    const destination = check.status!.capture!.points!.find((p) => p.point === 'Destination')!;
    expect(destination.reason, JSON.stringify(check.status!.capture)).to.equal('CaptureFailed');
    expect(destination.message).to.include(`outside the check's namespace ${namespace}`);
    expect(destination.secret).to.equal(undefined);
    const pods = await cluster.core.listNamespacedPod({ namespace: other });
    expect(pods.items.flatMap((p) => p.spec!.ephemeralContainers ?? [])).to.deep.equal([]);
    // The source side (the tenant's own probe pod) is still captured.
    expect(check.status!.capture!.points!.find((p) => p.point === 'Source')!.reason).to.equal('Healthy');
  });

  it('refuses a capture filter outside the grammar at admission or as Stalled, naming the field', async () => {
    const name = `badfilter-${++counter}`;
    await checks.create(name, toService({ when: 'Always', filter: 'tcp and `id`' }));
    const check = await waitFor('Stalled', async () => {
      const current = await checks.get(name);
      return current.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? current : undefined;
    }, 30_000, 250);
    expect(check.status!.reason).to.equal('InvalidCaptureFilter');
    expect(check.status!.summary).to.match(/^spec\.capture\.filter: /);
    const probes = await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${name}` });
    expect(probes.items).to.deep.equal([]);
  });
});
