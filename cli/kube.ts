// API access as kubectl does it: the kubeconfig from --kubeconfig, else KUBECONFIG (a list of files),
// else ~/.kube/config; the context from --context, else the current one; the namespace from
// -n/--namespace, else the context's namespace, else "default". The plugin acts with the user's own
// rights (create/get/watch/delete networkchecks; get secrets for pcap), never the operator's.
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { GROUP, PLURAL, VERSION } from '../operator/api/schema.ts';
import type { NetworkCheck } from '../operator/api/types.generated.ts';
import { CommandError, UsageError, apiMessage, httpStatusOf } from './errors.ts';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Whether loadFromDefault() would find a real configuration (it falls back to localhost:8080). */
function haveDefaultConfig(env: NodeJS.ProcessEnv): boolean {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).some((file) => file && existsSync(file));
  if (env.KUBERNETES_SERVICE_HOST) return true;
  return existsSync(join(homedir(), '.kube', 'config'));
}

export function loadKubeConfig(flags: ConnectionFlags): KubeConfig {
  const kc = new KubeConfig();
  if (!flags.kubeconfig && !haveDefaultConfig(process.env)) {
    throw new UsageError('KUBECONFIG', 'no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config');
  }
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(flags.kubeconfig ? '--kubeconfig' : 'KUBECONFIG', `cannot load the kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) throw new UsageError('--context', `no context "${flags.context}" in the kubeconfig (have: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError('--context', 'the kubeconfig has no current context; pass --context or set KUBECONFIG');
  return kc;
}

export function namespaceOf(kc: KubeConfig, flags: ConnectionFlags): string {
  return flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** Wraps an API call: 404 and 403 become messages a user can act on, everything else exit 2. */
async function api<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = httpStatusOf(err);
    if (status === 404 && /networkchecks/.test(apiMessage(err)) && /the server could not find the requested resource/.test(apiMessage(err))) {
      throw new CommandError(`${what}: the NetworkCheck CRD is not installed in this cluster (kubectl apply -f crds/)`);
    }
    throw new CommandError(`${what}: ${apiMessage(err)}${status ? ` (HTTP ${status})` : ''}`);
  }
}

export class Checks {
  readonly kc: KubeConfig;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  create(check: NetworkCheck): Promise<NetworkCheck> {
    const namespace = check.metadata!.namespace!;
    return api('create networkcheck', () => this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: check }) as Promise<NetworkCheck>);
  }

  get(namespace: string, name: string): Promise<NetworkCheck> {
    return api(`get networkcheck ${namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }) as Promise<NetworkCheck>);
  }

  async list(namespace: string | undefined, labelSelector?: string): Promise<NetworkCheck[]> {
    const list = await api('list networkchecks', () =>
      namespace
        ? this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, labelSelector })
        : this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, labelSelector })) as { items?: NetworkCheck[] };
    return list.items ?? [];
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, propagationPolicy: 'Background' });
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw new CommandError(`delete networkcheck ${namespace}/${name}: ${apiMessage(err)}`);
    }
  }

  /** The bytes under `key` of a Secret (the user's own right to read it, not the operator's). */
  async secretData(namespace: string, name: string, key: string): Promise<Buffer> {
    const secret = await api(`get secret ${namespace}/${name}`, () => this.core.readNamespacedSecret({ namespace, name }));
    const data = secret.data?.[key];
    if (data === undefined) throw new CommandError(`secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(data, 'base64');
  }

  /**
   * Watches one check from resourceVersion on; calls `onChange` with every new version until it
   * returns true. A watch the server closes is reopened from the last version seen.
   */
  follow(namespace: string, name: string, fromVersion: string | undefined, onChange: (check: NetworkCheck) => boolean): { done: Promise<void>; stop: () => void } {
    const watch = new Watch(this.kc);
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
    let version = fromVersion;
    let controller: AbortController | undefined;
    let stopped = false;
    let settle: (error?: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => { settle = (error) => (error ? reject(error) : resolve()); });
    const stop = () => { stopped = true; controller?.abort(); settle(); };
    const open = async (): Promise<void> => {
      if (stopped) return;
      const params = { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true, ...(version ? { resourceVersion: version } : {}) };
      controller = await watch.watch(path, params, (type, object: NetworkCheck) => {
        version = object.metadata?.resourceVersion ?? version;
        if (type === 'DELETED') { stopped = true; controller?.abort(); settle(new CommandError(`networkcheck ${namespace}/${name} was deleted while it ran`)); return; }
        if ((type === 'ADDED' || type === 'MODIFIED') && onChange(object)) stop();
      }, (err) => {
        if (stopped) return;
        // 410 Gone: our version is too old; go on from "now" (the next change still arrives).
        if (httpStatusOf(err) === 410 || /too old/i.test(String(err))) version = undefined;
        setTimeout(() => void open().catch((e) => settle(new CommandError(`watch networkcheck ${namespace}/${name}: ${apiMessage(e)}`))), err ? 500 : 0);
      });
    };
    open().catch((e) => settle(new CommandError(`watch networkcheck ${namespace}/${name}: ${apiMessage(e)}`)));
    return { done, stop };
  }
}
