// Every example in examples/ runs against the demo app (examples/demo/) on the local cluster, as the
// quick start has a user do: the demo is applied with its own script, each example with
// `kubectl apply -f`, and each reaches a final result, the one its comments promise. The operator is
// the real controller in this process with real probe pods and the real diagnosis.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse } from 'yaml';
import { stalledBeforeProbing } from '../../operator/api/conditions.ts';
import { GROUP, PLURAL, VERSION } from '../../operator/api/schema.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { REPO_ROOT, TestCluster, waitFor } from '../support/cluster.ts';
import { OPERATOR_NAMESPACE, startClusterOperator } from '../support/operator.ts';

const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
const DEMO_NAMESPACES = ['shop', 'untrusted'];
// Example 10 probes kube-dns: its Service must be in the operator's caches too.
const WATCHED = [...DEMO_NAMESPACES, 'kube-system'];

interface Expected { result: 'Healthy' | 'Unhealthy'; failedLayer?: string; also?: (check: NetworkCheck) => void }

/** What each example's comments say it reports on the demo cluster. */
const EXPECTED: Record<string, Expected> = {
  '01-pod-to-service-tcp.yaml': { result: 'Healthy' },
  '02-http-health-path.yaml': { result: 'Healthy' },
  '03-dns-only.yaml': { result: 'Healthy' },
  // No way out of the local cluster: the honest answer is a DNS failure (see the example's comments).
  '04-external-egress.yaml': { result: 'Unhealthy', failedLayer: 'DNS' },
  // Healthy = blocked, as asserted, by the demo's NetworkPolicy.
  '05-expect-blocked.yaml': { result: 'Healthy' },
  '06-scheduled.yaml': { result: 'Healthy', also: (check) => expect(check.status?.nextRunTime, 'a scheduled check knows its next run').to.be.a('string') },
  '07-capture-on-failure.yaml': { result: 'Healthy', also: (check) => expect(check.status?.capture?.state, 'OnFailure discards the capture of a healthy run').to.equal('Discarded') },
  // One probe from each node that runs a frontend pod: the demo spreads them over both nodes.
  '08-spread-every-node.yaml': { result: 'Healthy', also: (check) => expect(check.status?.lastRun?.probePods, 'one probe pod per node').to.have.length(2) },
  '09-newpod-with-labels.yaml': { result: 'Healthy' },
  '10-node-source.yaml': { result: 'Healthy' },
};

const exampleFiles = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.yaml')).sort();
const metadataOf = (file: string) => (parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as NetworkCheck).metadata!;

describe('the examples, run against the demo app on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let custom: CustomObjectsApi;
  let manager: Manager | undefined;
  const kubectl = (args: string[]) => execFileSync(cluster.info!.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.info!.kubeconfigPath }, encoding: 'utf8', stdio: 'pipe' });
  const getCheck = async (namespace: string, name: string) => await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }) as NetworkCheck;

  before(async () => {
    cluster = await TestCluster.connect();
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    execFileSync('bash', [join(EXAMPLES_DIR, 'demo', 'apply.sh'), cluster.info!.kubectl], { env: { ...process.env, KUBECONFIG: cluster.info!.kubeconfigPath }, stdio: 'pipe', timeout: 280_000 });
    const backend = await cluster.core.readNamespacedService({ namespace: 'shop', name: 'backend' });
    await cluster.waitForServiceProxied(backend.spec!.clusterIP!, 60_000);
    manager = await startClusterOperator(cluster, [...WATCHED, OPERATOR_NAMESPACE]);
  });

  after(async () => {
    await manager?.stop();
    for (const file of exampleFiles) {
      const { namespace, name } = metadataOf(file);
      if (namespace === OPERATOR_NAMESPACE) await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: name! }).catch(() => undefined);
    }
    for (const namespace of DEMO_NAMESPACES) await cluster.deleteNamespace(namespace, { wait: true }).catch(() => undefined);
  });

  it('has an expectation for every example', () => {
    expect(exampleFiles).to.deep.equal(Object.keys(EXPECTED).sort());
  });

  it('each example, applied with kubectl, reaches a final result: the one it documents', async () => {
    for (const file of exampleFiles) kubectl(['apply', '-f', join(EXAMPLES_DIR, file)]);
    const outcomes: string[] = [];
    // All at once, as a user pasting them would; each waits for its own first completed run.
    await Promise.all(exampleFiles.map(async (file) => {
      const { namespace, name } = metadataOf(file);
      // Final: a completed run, or Stalled (which fails below with the field it names).
      const check = await waitFor(`${file}: a completed run`, async () => {
        const current = await getCheck(namespace!, name!);
        return current.status?.lastRun?.completionTime || stalledBeforeProbing(current.status?.conditions) ? current : undefined;
      }, 240_000, 500);
      const { result, failedLayer, reason, summary } = check.status!;
      outcomes.push(`${file}: ${result}${failedLayer ? ` ${failedLayer}/${reason}` : ''}: ${summary}`);
      const expected = EXPECTED[file]!;
      expect(result, `${file}: ${failedLayer}/${reason}: ${summary}`).to.equal(expected.result);
      if (expected.failedLayer) expect(failedLayer, `${file}: ${summary}`).to.equal(expected.failedLayer);
      expected.also?.(check);
    })).finally(() => console.log(outcomes.sort().map((line) => `      ${line}`).join('\n')));
  });
});
