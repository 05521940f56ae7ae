// The suite file of `kubectl netcheck test -f`: either NetworkCheck documents (what a repository of
// checks already holds; several per file, separated by ---), or a compact list in the from/to syntax
// of `run`:
//
//   checks:                       # or the list itself at the top level
//     - name: web-to-backend      # optional; the test case name
//       from: pod/web
//       to: svc/backend:8080
//       protocol: TCP             # optional, and so are path, expect, timeout, namespace
//
// Every entry is validated before anything is created; an error names the entry and the field.
import { parseAllDocuments } from 'yaml';
import { KIND } from '../operator/api/schema.ts';
import type { NetworkCheckSpec } from '../operator/api/types.generated.ts';
import { buildSpec, parseExpect, parseProtocol, parseTimeout } from './adhoc.ts';
import { UsageError } from './errors.ts';
import { parseDestination, parseSource } from './target.ts';

export interface SuiteEntry {
  /** The test case name. */
  name: string;
  namespace?: string;
  spec: NetworkCheckSpec;
}

const COMPACT_FIELDS = new Set(['name', 'from', 'to', 'protocol', 'path', 'expect', 'timeout', 'namespace', 'capture']);

function text(where: string, field: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new UsageError(`${where}: ${field}`, `must be a string, not ${JSON.stringify(value)}`);
}

/** Re-labels a UsageError of the shared parsers with the entry and field it came from. */
function field<T>(where: string, name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UsageError && !err.flag.startsWith(where)) throw new UsageError(`${where}: ${name}`, err.detail);
    throw err;
  }
}

function compactEntry(raw: Record<string, unknown>, index: number): SuiteEntry {
  const where = `entry ${index + 1}${typeof raw.name === 'string' ? ` (${raw.name})` : ''}`;
  const unknown = Object.keys(raw).filter((key) => !COMPACT_FIELDS.has(key));
  if (unknown.length) throw new UsageError(where, `unknown field ${unknown.join(', ')}; use ${[...COMPACT_FIELDS].join(', ')}`);
  if (raw.from === undefined || raw.to === undefined) throw new UsageError(where, 'needs from and to');
  const spec = field(where, 'spec', () => buildSpec({
    source: field(where, 'from', () => parseSource(text(where, 'from', raw.from), 'from')),
    destination: field(where, 'to', () => parseDestination(text(where, 'to', raw.to), 'to')),
    ...(raw.protocol !== undefined ? { protocol: field(where, 'protocol', () => parseProtocol(text(where, 'protocol', raw.protocol))) } : {}),
    ...(raw.path !== undefined ? { path: text(where, 'path', raw.path) } : {}),
    ...(raw.expect !== undefined ? { expect: field(where, 'expect', () => parseExpect(text(where, 'expect', raw.expect))) } : {}),
    ...(raw.timeout !== undefined ? { timeoutSeconds: field(where, 'timeout', () => parseTimeout(text(where, 'timeout', raw.timeout))) } : {}),
    ...(raw.capture === true ? { capture: true } : {}),
  }));
  const name = typeof raw.name === 'string' ? raw.name : `${text(where, 'from', raw.from)} -> ${text(where, 'to', raw.to)}`;
  return { name, ...(typeof raw.namespace === 'string' ? { namespace: raw.namespace } : {}), spec };
}

function checkEntry(doc: Record<string, unknown>, index: number): SuiteEntry {
  const metadata = (doc.metadata ?? {}) as { name?: string; namespace?: string };
  const where = `document ${index + 1}${metadata.name ? ` (${metadata.name})` : ''}`;
  if (doc.kind !== KIND) throw new UsageError(where, `kind must be ${KIND}, not ${JSON.stringify(doc.kind)}`);
  if (!doc.spec || typeof doc.spec !== 'object') throw new UsageError(where, 'has no spec');
  // The API server validates the spec (schema and CEL) when the check is created.
  return { name: metadata.name ?? `check ${index + 1}`, ...(metadata.namespace ? { namespace: metadata.namespace } : {}), spec: doc.spec as NetworkCheckSpec };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseSuite(source: string, file = '-f'): SuiteEntry[] {
  const docs = parseAllDocuments(source);
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length) throw new UsageError(file, `not valid YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  const list = values.length === 1 && Array.isArray(values[0]) ? values[0] : values.length === 1 && isRecord(values[0]) && Array.isArray(values[0].checks) ? values[0].checks : undefined;
  const entries = list
    ? list.map((item, index) => { if (!isRecord(item)) throw new UsageError(`${file}: entry ${index + 1}`, 'must be a mapping with from and to'); return compactEntry(item, index); })
    : values.map((item, index) => { if (!isRecord(item)) throw new UsageError(`${file}: document ${index + 1}`, 'must be a NetworkCheck'); return checkEntry(item, index); });
  if (entries.length === 0) throw new UsageError(file, 'the suite holds no checks');
  return entries;
}
