// What a check may ask of its probe pods (spec.probe), within limits the operator's admin sets:
// the image (only from an allowlist: the author of a check must not run code of their choice with
// the operator's rights), tolerations (no landing on every tainted node unless allowed) and cpu and
// memory (under caps). Pure: the reconciler refuses a spec that asks for more (Stalled, naming the
// field) before any pod exists, and the pod builder takes the values from here.
import type { V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import { DEFAULT_PROBE_IMAGE, type ResolvedSpec } from '../api/defaults.ts';

export interface ProbePolicy {
  /** The operator's own probe image: node probes, destination captures and reproduce commands always use it. */
  image: string;
  /** The images spec.probe.image may name (compared after normalising docker.io/library names). */
  allowedImages: string[];
  /** Taint keys a check may tolerate; '*' allows every non-empty key except the control-plane ones. */
  tolerationKeys: string[];
  /** Whether a toleration with an empty key (tolerate every taint) is allowed. */
  tolerateAllTaints: boolean;
  maxCpu: string;
  maxMemory: string;
  /** Ephemeral containers (probes and destination captures) this operator may add to one pod: Kubernetes never
   *  removes them, and each keeps its spec in the pod object. */
  maxEphemeralPerPod: number;
}

/** The default cap on this operator's ephemeral containers per pod. */
export const DEFAULT_MAX_EPHEMERAL_PER_POD = 5;
export const DEFAULT_PROBE_REQUESTS = { cpu: '10m', memory: '16Mi' } as const;
export const DEFAULT_PROBE_LIMITS = { cpu: '200m', memory: '64Mi' } as const;
/** Taints that keep workloads off control-plane nodes: '*' does not cover them, only naming them does. */
export const CONTROL_PLANE_TAINT_KEYS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

export function defaultProbePolicy(image = DEFAULT_PROBE_IMAGE): ProbePolicy {
  return { image, allowedImages: [image], tolerationKeys: ['*'], tolerateAllTaints: false, maxCpu: '500m', maxMemory: '256Mi', maxEphemeralPerPod: DEFAULT_MAX_EPHEMERAL_PER_POD };
}

export const ProbePolicyReason = {
  ProbeImageNotAllowed: 'ProbeImageNotAllowed',
  ProbeTolerationNotAllowed: 'ProbeTolerationNotAllowed',
  ProbeResourcesNotAllowed: 'ProbeResourcesNotAllowed',
} as const;

export interface Refusal { reason: string; message: string }

/**
 * A container image reference in one canonical form: registry host, repository, then :tag and/or
 * @digest. "nicolaka/netshoot:v0.14" and "docker.io/nicolaka/netshoot:v0.14" are the same image.
 */
export function normalizeImage(reference: string): string {
  const at = reference.indexOf('@');
  const digest = at >= 0 ? reference.slice(at) : '';
  let name = at >= 0 ? reference.slice(0, at) : reference;
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${slash >= 0 ? name : `library/${name}`}`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !digest) name = `${name}:latest`;
  return `${name}${digest}`;
}

/** The image a check's probe pods run: its own when the allowlist has it, else the operator's. */
export function probeImageFor(spec: ResolvedSpec, policy: ProbePolicy): string {
  const wanted = spec.probe?.image;
  return wanted && imageAllowed(wanted, policy) ? wanted : policy.image;
}

function imageAllowed(image: string, policy: ProbePolicy): boolean {
  const wanted = normalizeImage(image);
  return [policy.image, ...policy.allowedImages].some((allowed) => normalizeImage(allowed) === wanted);
}

/** Whether a check may tolerate this taint key under the policy. */
function tolerationAllowed(toleration: V1Toleration, policy: ProbePolicy): boolean {
  const key = toleration.key ?? '';
  if (key === '') return policy.tolerateAllTaints;
  if (policy.tolerationKeys.includes(key)) return true;
  return policy.tolerationKeys.includes('*') && !CONTROL_PLANE_TAINT_KEYS.includes(key);
}

/** Pure: the first thing in spec.probe the policy does not allow, with the field named. */
export function probeSpecRefusal(spec: ResolvedSpec, policy: ProbePolicy): Refusal | undefined {
  const probe = spec.probe;
  if (!probe) return undefined;
  if (probe.image !== undefined && !imageAllowed(probe.image, policy)) {
    const allowed = [...new Set([policy.image, ...policy.allowedImages])].join(', ');
    return {
      reason: ProbePolicyReason.ProbeImageNotAllowed,
      message: `spec.probe.image: ${probe.image} is not an image this operator runs probes with (allowed: ${allowed}); remove spec.probe.image to use the operator's probe image, or ask its admin to allow the image (--allowed-probe-images).`,
    };
  }
  const index = (probe.tolerations ?? []).findIndex((t) => !tolerationAllowed(t as V1Toleration, policy));
  if (index >= 0) {
    const key = probe.tolerations![index]!.key ?? '';
    const what = key === '' ? 'an empty key (tolerate every taint, control-plane nodes included)' : `taint key ${key}`;
    return {
      reason: ProbePolicyReason.ProbeTolerationNotAllowed,
      message: `spec.probe.tolerations[${index}]: ${what} is not allowed by this operator (allowed keys: ${policy.tolerationKeys.join(', ') || 'none'}${policy.tolerateAllTaints ? ', and the empty key' : ''}); name a specific taint key.`,
    };
  }
  return resourcesRefusal(spec, policy);
}

function resourcesRefusal(spec: ResolvedSpec, policy: ProbePolicy): Refusal | undefined {
  const resources = probeResourcesFor(spec);
  const caps = { cpu: policy.maxCpu, memory: policy.maxMemory };
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const value = resources[kind]![resource]!;
      const amount = parseQuantity(value);
      const field = `spec.probe.resources.${kind}.${resource}`;
      if (amount === undefined) return { reason: ProbePolicyReason.ProbeResourcesNotAllowed, message: `${field}: ${value} is not a resource quantity.` };
      if (amount > parseQuantity(caps[resource])!) {
        return { reason: ProbePolicyReason.ProbeResourcesNotAllowed, message: `${field}: ${value} is more than this operator allows for a probe (${caps[resource]}); lower it.` };
      }
    }
  }
  for (const resource of ['cpu', 'memory'] as const) {
    const request = resources.requests![resource]!;
    const limit = resources.limits![resource]!;
    if (parseQuantity(request)! > parseQuantity(limit)!) {
      return { reason: ProbePolicyReason.ProbeResourcesNotAllowed, message: `spec.probe.resources.requests.${resource}: ${request} is more than the limit ${limit}; raise spec.probe.resources.limits.${resource} or lower the request.` };
    }
  }
  return undefined;
}

/** Requests and limits of a probe container: the small defaults, overridden per check (cpu and memory only). */
export function probeResourcesFor(spec: ResolvedSpec): V1ResourceRequirements & { requests: Record<string, string>; limits: Record<string, string> } {
  const asText = (value: unknown) => (value === undefined ? undefined : String(value));
  const pick = (given: Record<string, unknown> | undefined, defaults: { cpu: string; memory: string }) => ({
    cpu: asText(given?.cpu) ?? defaults.cpu,
    memory: asText(given?.memory) ?? defaults.memory,
  });
  const resources = spec.probe?.resources as { requests?: Record<string, unknown>; limits?: Record<string, unknown> } | undefined;
  return { requests: pick(resources?.requests, DEFAULT_PROBE_REQUESTS), limits: pick(resources?.limits, DEFAULT_PROBE_LIMITS) };
}

/** The check's tolerations that the policy allows (all of them, once the reconciler has let it run). */
export function probeTolerationsFor(spec: ResolvedSpec, policy: ProbePolicy): V1Toleration[] | undefined {
  const tolerations = (spec.probe?.tolerations ?? []) as V1Toleration[];
  const allowed = tolerations.filter((t) => tolerationAllowed(t, policy));
  return allowed.length ? allowed : undefined;
}

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * A Kubernetes resource quantity as a number (cores, bytes), precise enough to compare probe
 * sizes; undefined when it is not one. client-node's quantityToScalar throws on forms such as
 * "1.5Gi", so the grammar (resource.Quantity's) is parsed here.
 */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const suffix = match[2] ?? '';
  const scale = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix]!;
  return Number(match[1]) * scale;
}
