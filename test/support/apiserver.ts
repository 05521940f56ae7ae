// Starts a real etcd and kube-apiserver for integration tests (no kubelet: pods are stored, never run).
// Binaries come from test/cluster/install-deps.sh (etcd from Debian trixie) and build-k8s.sh
// (kube-apiserver, cached by version). Each start gets its own temporary directory and free ports.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { readVersions } from './cluster.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export function cacheDir(): string {
  return process.env.NETCHECK_CACHE ?? join(homedir(), '.cache/netcheck-operator');
}

export function binaries(): { etcd: string; apiserver: string; kubectl: string } {
  const v = readVersions();
  const bin = join(cacheDir(), `k8s-${v.K8S_VERSION}/bin`);
  return { etcd: join(cacheDir(), 'trixie-root/usr/bin/etcd'), apiserver: join(bin, 'kube-apiserver'), kubectl: join(bin, 'kubectl') };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA, a serving certificate for 127.0.0.1, an admin client certificate, and the service-account key. */
function makePki(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3', '-subj', '/CN=netcheck-test-ca'], dir);
  writeFileSync(join(dir, 'serving.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'serving.key', '-out', 'serving.csr', '-subj', '/CN=kube-apiserver'], dir);
  openssl(['x509', '-req', '-in', 'serving.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'serving.crt', '-days', '3', '-extfile', 'serving.ext'], dir);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/O=system:masters/CN=admin'], dir);
  openssl(['x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '3', '-extfile', 'client.ext'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

export interface ControlPlane {
  dir: string;
  kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig for a user authenticated by client certificate with the given groups. */
  userKubeConfig(user: string, groups: string[]): KubeConfig;
  kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string };
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-apiserver-'));
  mkdirSync(join(dir, 'etcd'));
  makePki(dir);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const logs = (name: string) => openSync(join(dir, `${name}.log`), 'a');

  const etcd = spawn(bin.etcd, [
    '--data-dir', join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`, '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`,
    '--unsafe-no-fsync', '--quota-backend-bytes', String(2 * 1024 ** 3),
  ], { stdio: ['ignore', logs('etcd'), logs('etcd')] });

  const apiserverArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--cert-dir=${dir}`, `--secure-port=${apiPort}`, '--bind-address=127.0.0.1',
    `--tls-cert-file=${join(dir, 'serving.crt')}`, `--tls-private-key-file=${join(dir, 'serving.key')}`,
    `--client-ca-file=${join(dir, 'ca.crt')}`, '--service-cluster-ip-range=10.0.0.0/24', '--authorization-mode=RBAC',
    '--allow-privileged=true', '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--disable-admission-plugins=ServiceAccount', '--advertise-address=127.0.0.1', '--enable-priority-and-fairness=false',
  ];
  let apiserver: ChildProcess | undefined;
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  const kubeconfigFor = (user: string, cert: string, key: string) => [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:',
    `    server: https://127.0.0.1:${apiPort}`, `    certificate-authority: ${join(dir, 'ca.crt')}`,
    'users:', `- name: ${user}`, '  user:', `    client-certificate: ${cert}`, `    client-key: ${key}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', `    user: ${user}`, 'current-context: test', '',
  ].join('\n');
  writeFileSync(kubeconfigPath, kubeconfigFor('admin', join(dir, 'admin.crt'), join(dir, 'admin.key')));

  const kubectl = (args: string[], input?: string) => {
    try {
      const stdout = execFileSync(bin.kubectl, ['--kubeconfig', kubeconfigPath, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  const waitHealthy = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = kubectl(['get', '--raw', '/readyz']);
      if (r.code === 0 && r.stdout.trim() === 'ok') return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`kube-apiserver did not become ready in ${timeoutMs} ms; see ${join(dir, 'kube-apiserver.log')}`);
  };

  const startApiServer = async () => {
    apiserver = spawn(bin.apiserver, apiserverArgs, { stdio: ['ignore', logs('kube-apiserver'), logs('kube-apiserver')] });
    await waitHealthy(90_000);
  };
  const stopProcess = (proc: ChildProcess | undefined) => new Promise<void>((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
  });

  await startApiServer();

  return {
    dir,
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    userKubeConfig(user, groups) {
      const subject = `/${groups.map((g) => `O=${g}/`).join('')}CN=${user}`;
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${user}.key`, '-out', `${user}.csr`, '-subj', subject], dir);
      openssl(['x509', '-req', '-in', `${user}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${user}.crt`, '-days', '3', '-extfile', 'client.ext'], dir);
      const path = join(dir, `${user}.kubeconfig`);
      writeFileSync(path, kubeconfigFor(user, join(dir, `${user}.crt`), join(dir, `${user}.key`)));
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      return kc;
    },
    kubectl,
    stopApiServer: () => stopProcess(apiserver),
    startApiServer,
    async stop() {
      await stopProcess(apiserver);
      await stopProcess(etcd);
      if (!process.env.NETCHECK_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}
