// Records the terminal session the README shows: the demo app (namespace shop: pod web, Deployment
// and Service backend) on the local cluster, the operator in this process, and `kubectl netcheck run`
// typed into a real terminal (tmux) - once on the healthy path, once with a NetworkPolicy that admits
// only app=frontend to the backends. Writes the screens to the file given (default /tmp/netcheck-session.txt).
// Run: /work/tools/with-cluster . node cli/demo/record-session.ts [file]   (or any cluster: bash test/cluster/up.sh first)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BACKEND_PORTS, REPO_ROOT, TestCluster, waitFor } from '../../test/support/cluster.ts';
import { startClusterOperator } from '../../test/support/operator.ts';
import { Terminal } from '../../test/support/terminal.ts';

const NAMESPACE = 'shop';
const out = process.argv[2] ?? '/tmp/netcheck-session.txt';
const cluster = await TestCluster.connect();
const work = mkdtempSync(join(tmpdir(), 'netcheck-demo-'));
const bin = join(work, 'bin');
execFileSync('bash', [join(REPO_ROOT, 'cli/build/sea.sh'), join(bin, 'kubectl-netcheck')], { stdio: 'pipe' });
symlinkSync(cluster.info!.kubectl, join(bin, 'kubectl'));
const env = { PATH: `${bin}:${dirname(cluster.info!.kubectl)}:/usr/bin:/bin`, KUBECONFIG: cluster.info!.kubeconfigPath, HOME: work, LANG: 'C.UTF-8', TERM: 'xterm-256color', PS1: '$ ' };

await cluster.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
await waitFor('the default ServiceAccount', async () => { await cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }); return true; });
await Promise.all([
  cluster.createBackend({ namespace: NAMESPACE, name: 'backend', replicas: 2 }),
  cluster.startPod({ namespace: NAMESPACE, name: 'web', labels: { app: 'web' } }),
]);
const manager = await startClusterOperator(cluster, [NAMESPACE]);
const terminal = new Terminal();
const screens: string[] = [];
const session = async (command: string) => {
  const run = terminal.run(['bash', '--norc', '-c', `echo '$ ${command}'; ${command}`], env, { width: 150, height: 60 });
  const { screen } = await run.exited(240_000);
  run.kill();
  screens.push(screen.trimEnd());
};
try {
  await session(`kubectl netcheck run --from pod/web --to svc/backend:${BACKEND_PORTS.http.service} -n ${NAMESPACE}`);
  await cluster.createNetworkPolicy(NAMESPACE, { metadata: { name: 'backend-allow-frontend' }, spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] } });
  await session(`kubectl netcheck run --from pod/web --to svc/backend:${BACKEND_PORTS.http.service} -n ${NAMESPACE} --timeout 2s`);
} finally {
  terminal.close();
  await manager.stop();
  await cluster.deleteNamespace(NAMESPACE, { wait: true });
}
writeFileSync(out, `${screens.join('\n\n')}\n`);
console.log(`wrote ${out}`);
