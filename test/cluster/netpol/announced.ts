// Pod addresses announced by the CNI plugin (test/cluster/cni/netcheck-policy-wait) before the kubelet
// publishes them in pod status. The enforcer lays them over its pod cache so that a new pod's rules, and
// the peer sets that name it, exist before its containers start.
import type { V1Pod } from '@kubernetes/client-node';

export interface Announcement {
  ip: string;
  namespace: string;
  name: string;
  /** When the enforcer first read it, for expiry. */
  seenAt: number;
}

/** How long an announcement may wait for the pod status to catch up before it is forgotten. */
export const ANNOUNCEMENT_TTL_MS = 120_000;

/** Parses an announcement file's content, `<namespace>/<name>`. */
export function parseAnnouncement(ip: string, content: string, now: number): Announcement | undefined {
  const [namespace, name, ...rest] = content.trim().split('/');
  if (!namespace || !name || rest.length > 0 || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
  return { ip, namespace, name, seenAt: now };
}

export interface Overlay {
  /** The pod cache with announced addresses filled in. */
  pods: V1Pod[];
  /** Announcements whose pod is in the cache with that address: a successful sync programs them. */
  programmed: Announcement[];
  /** Announcements still worth keeping: the pod is not (yet) in the cache, or its status lacks the address. */
  keep: Announcement[];
  /** Announcements whose pod the cache does not have yet. */
  notCached: Announcement[];
}

/**
 * Fills in announced addresses on pods whose status does not carry one yet. An announcement is dropped
 * once the pod's status has an address (the API now says what the truth is), when it has expired, or
 * when its address now belongs to another pod in the cache (the announced pod is gone and the address
 * was reused).
 */
export function overlayAnnouncements(pods: readonly V1Pod[], announcements: Iterable<Announcement>, now: number): Overlay {
  const byPod = new Map<string, Announcement>();
  const keep: Announcement[] = [];
  const cachedIps = new Set(pods.map((pod) => pod.status?.podIP).filter((ip): ip is string => Boolean(ip)));
  for (const announcement of announcements) {
    if (now - announcement.seenAt > ANNOUNCEMENT_TTL_MS) continue;
    byPod.set(`${announcement.namespace}/${announcement.name}`, announcement);
  }
  const programmed: Announcement[] = [];
  const seen = new Set<string>();
  const overlaid = pods.map((pod) => {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const announcement = byPod.get(key);
    if (!announcement) return pod;
    seen.add(key);
    if (pod.status?.podIP) {
      if (pod.status.podIP === announcement.ip) programmed.push(announcement);
      return pod;
    }
    if (cachedIps.has(announcement.ip)) return pod;
    programmed.push(announcement);
    keep.push(announcement);
    return { ...pod, status: { ...pod.status, podIP: announcement.ip, podIPs: [{ ip: announcement.ip }] } };
  });
  // Not in the cache yet: the watch has not delivered the pod. Keep it for the next sync.
  const notCached = [...byPod].filter(([key]) => !seen.has(key)).map(([, announcement]) => announcement);
  keep.push(...notCached);
  return { pods: overlaid, programmed, keep, notCached };
}
