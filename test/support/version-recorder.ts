// Every version of one NetworkCheck as the API server stored it, from a list and a watch: what a
// GitOps controller or `kubectl wait` can see, including versions that live only for milliseconds.
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../operator/api/schema.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';

const MINUTE = 60_000;

/**
 * Every version of one check, from a watch: a completed run whose next run starts a millisecond later
 * (a fire time passed during the run) is still a version of its own.
 */
export class VersionRecorder {
  readonly versions: NetworkCheck[] = [];
  private readonly kubeConfig: KubeConfig;
  private readonly namespace: string;
  private readonly name: string;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;

  constructor(kubeConfig: KubeConfig, namespace: string, name: string) {
    this.kubeConfig = kubeConfig;
    this.namespace = namespace;
    this.name = name;
  }

  /** Lists the object as it is now, then watches every change after it. */
  async start(): Promise<void> {
    const list = await this.kubeConfig.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, fieldSelector: `metadata.name=${this.name}`,
    });
    for (const item of list.items as NetworkCheck[]) this.record(item);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private record(check: NetworkCheck): void {
    if (this.versions.at(-1)?.metadata?.resourceVersion !== check.metadata?.resourceVersion) this.versions.push(check);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const watcher = new Watch(this.kubeConfig);
    // client-node gives up on a watch after 30 s without data; this object changes about every minute.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 10 * MINUTE;
    let expired = false;
    // A watch that ends is resumed where it stopped; one whose version expired (410) starts over.
    const resume = () => { if (!this.stopped) setTimeout(() => void (expired ? this.start() : this.watch()).catch(resume), 200); };
    try {
      this.abort = await watcher.watch(`/apis/${GROUP}/${VERSION}/namespaces/${this.namespace}/${PLURAL}`, {
        fieldSelector: `metadata.name=${this.name}`, resourceVersion: this.resourceVersion, allowWatchBookmarks: true,
      }, (phase, object: NetworkCheck) => {
        if (phase === 'ERROR') { expired = true; return; }
        if (phase === 'ADDED' || phase === 'MODIFIED') this.record(object);
        if (object?.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
      }, resume);
    } catch {
      resume();
    }
  }
}
