// Kubernetes API access for the controller: informer list functions, the status writer and events.
import {
  CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type V1Namespace, type V1Pod, type V1Secret, type V1Service,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/defaults.ts';
import { GROUP, KIND, PLURAL, VERSION } from '../api/schema.ts';
import type { NetworkCheck, NetworkCheckStatus } from '../api/types.generated.ts';
import type { ListResult } from './informer.ts';
import type { EventSink, StatusWriter } from './networkcheck.ts';
import { mergePatchFor } from './status.ts';
import { httpStatus } from '../util/http-status.ts';

/** Re-exported for the controller's modules; the probe-pod code imports it from util directly. */
export { httpStatus };

export const isConflict = (err: unknown) => httpStatus(err) === 409;
export const isNotFound = (err: unknown) => httpStatus(err) === 404;
export const isAlreadyExists = (err: unknown) => httpStatus(err) === 409;

export class KubeClients {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly kubeConfig: KubeConfig;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The watch path and list function for a resource, cluster-wide or in one namespace. */
  checkSource(namespace?: string): { path: string; list: () => Promise<ListResult<NetworkCheck>> } {
    const base = `/apis/${GROUP}/${VERSION}`;
    return {
      path: namespace ? `${base}/namespaces/${namespace}/${PLURAL}` : `${base}/${PLURAL}`,
      list: async () => {
        const body = namespace
          ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })
          : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
        const items = (body.items ?? []) as NetworkCheck[];
        // Lists omit apiVersion/kind on items; events need them.
        for (const item of items) { item.apiVersion = `${GROUP}/${VERSION}`; item.kind = KIND; }
        return { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      },
    };
  }

  podSource(namespace?: string): { path: string; list: () => Promise<ListResult<V1Pod>> } {
    return {
      path: namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
      list: async () => {
        const body = namespace ? await this.core.listNamespacedPod({ namespace }) : await this.core.listPodForAllNamespaces();
        return { items: body.items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      },
    };
  }

  /** Namespaces (cluster-scoped): their Pod Security labels decide what a probe pod may be. */
  namespaceSource(): { path: string; list: () => Promise<ListResult<V1Namespace>> } {
    return {
      path: '/api/v1/namespaces',
      list: async () => {
        const body = await this.core.listNamespace();
        return { items: body.items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      },
    };
  }

  serviceSource(namespace?: string): { path: string; list: () => Promise<ListResult<V1Service>> } {
    return {
      path: namespace ? `/api/v1/namespaces/${namespace}/services` : '/api/v1/services',
      list: async () => {
        const body = namespace ? await this.core.listNamespacedService({ namespace }) : await this.core.listServiceForAllNamespaces();
        return { items: body.items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      },
    };
  }
}

/** Writes status by JSON merge patch on the status subresource, guarded by resourceVersion. */
export class StatusPatcher implements StatusWriter {
  writes = 0;
  private readonly custom: CustomObjectsApi;
  constructor(custom: CustomObjectsApi) { this.custom = custom; }

  async writeStatus(check: NetworkCheck, status: NetworkCheckStatus): Promise<NetworkCheck> {
    // A merge patch merges objects at every depth: send null for every key that should go, however
    // deep, so that a stale field (the previous run's completionTime) never lingers.
    const body = mergePatchFor(check.status ?? {}, status);
    const updated = await this.custom.patchNamespacedCustomObjectStatus({
      group: GROUP, version: VERSION, plural: PLURAL,
      namespace: check.metadata!.namespace!, name: check.metadata!.name!,
      body: { metadata: { resourceVersion: check.metadata!.resourceVersion }, status: body },
      fieldManager: FIELD_MANAGER,
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    this.writes++;
    return updated as NetworkCheck;
  }
}

/** Records core/v1 Events on the check, so that `kubectl describe` shows transitions. */
export class EventRecorder implements EventSink {
  private readonly core: CoreV1Api;
  private readonly onError: (err: unknown) => void;
  constructor(core: CoreV1Api, onError: (err: unknown) => void) { this.core = core; this.onError = onError; }

  event(check: NetworkCheck, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = check.metadata!.namespace!;
    const now = new Date();
    void this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${check.metadata!.name}.`, namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: check.metadata!.name, namespace, uid: check.metadata!.uid, resourceVersion: check.metadata!.resourceVersion },
        type, reason, message: message.slice(0, 1024),
        firstTimestamp: now, lastTimestamp: now, count: 1,
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER, reportingInstance: process.env.POD_NAME ?? 'local',
      },
    }).catch(this.onError);
  }
}

/** Capture Secrets through the core API: create (AlreadyExists is success) and delete (NotFound is success). */
export class SecretCaptureStore {
  private readonly core: CoreV1Api;

  constructor(core: CoreV1Api) {
    this.core = core;
  }

  async create(secret: V1Secret): Promise<void> {
    try {
      await this.core.createNamespacedSecret({ namespace: secret.metadata!.namespace!, body: secret });
    } catch (err) {
      if (httpStatus(err) !== 409) throw err; // a retried run completion: the Secret is already there
    }
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace });
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }
}
