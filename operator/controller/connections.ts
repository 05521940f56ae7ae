// One connection pool for all the requests of a KubeConfig.
//
// @kubernetes/client-node 2.0 builds a new undici Agent for every request (applySecurityAuthentication
// calls createDispatcher each time), so no connection is ever reused: every request pays a TCP and a
// TLS handshake, and leaves a keep-alive socket behind. At 1,000 checks a minute that was about 1,000
// open sockets, 1 GB of RSS and most of a core (bench/load.ts), and the operator fell minutes behind.
// This keeps the first dispatcher for a connection identity (API server, CA, client certificate) and
// gives it to every later request.
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

const SHARED = Symbol.for('netcheck.sharedConnections');
// A fresh pool now and then picks up a client certificate rotated in place (same file, new content).
export const POOL_REFRESH_MS = 10 * 60_000;

/** Makes every request of this KubeConfig share one connection pool. Idempotent; returns the same object. */
export function shareConnections(kubeConfig: KubeConfig, refreshMs = POOL_REFRESH_MS): KubeConfig {
  const marked = kubeConfig as KubeConfig & { [SHARED]?: true };
  if (marked[SHARED]) return kubeConfig;
  marked[SHARED] = true;
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  const pools = new Map<string, { dispatcher: Dispatcher; createdAt: number }>();
  kubeConfig.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = connectionIdentity(kubeConfig);
    const pool = pools.get(key);
    if (pool && Date.now() - pool.createdAt < refreshMs) {
      context.setDispatcher(pool.dispatcher);
      // Never connected, so closing it costs nothing.
      void fresh.close().catch(() => undefined);
      return;
    }
    pools.set(key, { dispatcher: fresh, createdAt: Date.now() });
    // The old pool closes once its requests, long-running watches included, have ended.
    if (pool) void pool.dispatcher.close().catch(() => undefined);
  };
  return kubeConfig;
}

function connectionIdentity(kubeConfig: KubeConfig): string {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  return JSON.stringify([
    cluster?.server, cluster?.caFile, cluster?.caData, cluster?.skipTLSVerify, cluster?.tlsServerName, cluster?.proxyUrl,
    user?.name, user?.certFile, user?.certData, user?.keyFile,
  ]);
}
