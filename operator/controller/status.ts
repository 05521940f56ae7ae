// Status comparison: a write happens only when the stored status differs from the desired one.
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
