// Status comparison and the status patch: a write happens only when the stored status differs from
// the desired one, and then sends what turns the stored status into exactly the desired one.
import type { NetworkCheckStatus } from '../api/types.generated.ts';

/** Deep equality that ignores key order and undefined members (JSON semantics). */
export function statusEqual(a: NetworkCheckStatus | undefined, b: NetworkCheckStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([x], [y]) => x.localeCompare(y)));
    }
    return v;
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`. A merge patch merges objects at every
 * depth, so a key that `to` lacks must be sent as null wherever it is (e.g. lastRun.completionTime of
 * the previous run when a new run is recorded); lists and scalars are sent whole.
 */
export function mergePatchFor(from: unknown, to: unknown): unknown {
  if (!isObject(to)) return to;
  // An object patch applied to a non-object replaces it: diff against nothing.
  const base = isObject(from) ? from : {};
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(base)) if (to[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(to)) if (value !== undefined) patch[key] = mergePatchFor(base[key], value);
  return patch;
}
