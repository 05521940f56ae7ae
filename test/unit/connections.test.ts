// One connection pool per KubeConfig: client-node 2.0 would build a new one (and so open a new TLS
// connection) for every request.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { expect } from 'chai';
import { shareConnections } from '../../operator/controller/connections.ts';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nnot parsed until a connection is made\n-----END CERTIFICATE-----\n').toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'a', server: 'https://127.0.0.1:6443', caData: ca, skipTLSVerify: false }, { name: 'b', server: 'https://127.0.0.2:6443', caData: ca, skipTLSVerify: false }],
    users: [{ name: 'operator', token: 'secret' }],
    contexts: [{ name: 'a', cluster: 'a', user: 'operator' }, { name: 'b', cluster: 'b', user: 'operator' }],
    currentContext: 'a',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig, path = '/api/v1/pods') {
  const context = new RequestContext(`https://127.0.0.1:6443${path}`, HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  expect(context.getHeaders().Authorization ?? context.getHeaders().authorization, 'authentication still applied').to.equal('Bearer secret');
  return context.getDispatcher();
}

describe('shared API connections', () => {
  it('client-node alone gives every request a dispatcher of its own (the behaviour worked around)', async () => {
    const kc = kubeConfig();
    const [first, second] = [await dispatcherOf(kc), await dispatcherOf(kc)];
    expect(first).to.not.equal(undefined);
    expect(first).to.not.equal(second);
  });

  it('gives every request of a KubeConfig the same dispatcher, and is idempotent', async () => {
    const kc = shareConnections(shareConnections(kubeConfig()));
    const first = await dispatcherOf(kc);
    expect(first).to.not.equal(undefined);
    for (const path of ['/api/v1/pods', '/apis/netcheck.dev/v1alpha1/networkchecks?watch=true', '/api/v1/namespaces/x/services/y']) {
      expect(await dispatcherOf(kc, path)).to.equal(first);
    }
  });

  it('keeps one pool per API server, and starts a fresh pool once the refresh interval has passed', async () => {
    const kc = shareConnections(kubeConfig());
    const onA = await dispatcherOf(kc);
    kc.setCurrentContext('b');
    const onB = await dispatcherOf(kc);
    expect(onB).to.not.equal(onA);
    kc.setCurrentContext('a');
    expect(await dispatcherOf(kc)).to.equal(onA);

    const refreshing = shareConnections(kubeConfig(), 0);
    expect(await dispatcherOf(refreshing)).to.not.equal(await dispatcherOf(refreshing));
  });
});
