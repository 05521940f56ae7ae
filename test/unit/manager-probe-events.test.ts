// Which check a probe pod's event wakes (the manager's pod handler, fed events directly; nothing is
// started, so no API is contacted). A node probe lives in the operator namespace but belongs to a
// check elsewhere: its events must queue that check's key, and a label in a tenant's namespace must
// never point at another namespace's check.
import { expect } from 'chai';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Manager } from '../../operator/controller/manager.ts';
import { silentLogger } from '../../operator/log.ts';
import type { ProbeStage } from '../../operator/probe/stage.ts';

const stage: ProbeStage = {
  start: async () => [],
  observe: async () => ({ state: 'NotFound' }),
  cleanup: async () => undefined,
};

function manager(): Manager {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return new Manager({ kubeConfig, log: silentLogger(), stage, diagnose: () => { throw new Error('not reached'); }, namespaces: ['shop'], operatorNamespace: 'netcheck-system' });
}

const probePod = (namespace: string, labels: Record<string, string>): V1Pod => ({
  metadata: { name: 'p', namespace, labels: { 'app.kubernetes.io/managed-by': 'netcheck-operator', ...labels } },
});

async function queued(m: Manager): Promise<string[]> {
  const keys: string[] = [];
  while (m.queue.length() > 0) keys.push((await m.queue.get())!);
  return keys;
}

describe('manager: probe pod events wake the right check', () => {
  const onPod = (m: Manager, pod: V1Pod) => (m as unknown as { onPod(type: string, pod: V1Pod): void }).onPod('update', pod);

  it('queues a node probe\'s check under the check\'s own namespace', async () => {
    const m = manager();
    onPod(m, probePod('netcheck-system', { 'netcheck.dev/check': 'node-check', 'netcheck.dev/check-namespace': 'shop' }));
    expect(await queued(m)).to.deep.equal(['shop/node-check']);
  });

  it('queues a tenant probe under its namespace, whatever check-namespace label it carries', async () => {
    const m = manager();
    onPod(m, probePod('shop', { 'netcheck.dev/check': 'web-to-backend', 'netcheck.dev/check-namespace': 'other-tenant' }));
    expect(await queued(m)).to.deep.equal(['shop/web-to-backend']);
  });
});
