// The security contexts of probe containers, in one place: Pod Security "restricted" for every
// probe that can do without privileges, and root with exactly the named capabilities for the
// two that cannot (packet capture and node probes).
import type { V1SecurityContext } from '@kubernetes/client-node';

/** The probe's user and group: not root, and the one group net.ipv4.ping_group_range admits. */
export const PROBE_USER = 65532;

export const RUNTIME_DEFAULT = { type: 'RuntimeDefault' } as const;

/** Pod Security restricted: non-root, no capabilities, no escalation, RuntimeDefault seccomp. */
export function restrictedContext(readOnlyRootFilesystem = true): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem,
    runAsNonRoot: true, runAsUser: PROBE_USER, runAsGroup: PROBE_USER,
    capabilities: { drop: ['ALL'] }, seccompProfile: RUNTIME_DEFAULT,
  };
}

/** Root with exactly the capabilities named: capture (tcpdump) and node probes only. */
export function rootContext(capabilities: string[], readOnlyRootFilesystem = true): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem,
    runAsNonRoot: false, runAsUser: 0, runAsGroup: 0,
    capabilities: { drop: ['ALL'], add: capabilities }, seccompProfile: RUNTIME_DEFAULT,
  };
}

/** tcpdump needs raw sockets as root, and SETUID/SETGID for the user switch it insists on (-Z root). */
export const CAPTURE_ROOT_CAPABILITIES = ['NET_RAW', 'SETUID', 'SETGID'];

