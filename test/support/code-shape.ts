// Measures the shape of the operator's source: file lengths, function lengths, line lengths and the
// imports between floors (controller -> diagnosis -> probe -> capture -> api -> util). Used by
// test/unit/code-shape.test.ts; `node test/support/code-shape.ts` prints the figures.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OPERATOR = join(ROOT, 'operator');

/** Files written by a generator (npm run generate), not by hand. */
export const GENERATED = new Set(['operator/api/types.generated.ts']);

export interface FunctionSpan {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  /** `import type` / `export type`: erased at run time. */
  readonly typeOnly: boolean;
}

/** Source files under operator/, relative to the repository ("operator/diagnosis/index.ts"). */
export function sourceFiles(extensions = ['.ts', '.sh']): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (extensions.some((ext) => entry.name.endsWith(ext))) files.push(relative(ROOT, path));
    }
  };
  walk(OPERATOR);
  return files.filter((file) => !GENERATED.has(file)).sort();
}

export function lineCount(file: string): number {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

export function longLines(file: string, max: number): number[] {
  return readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .flatMap((line, index) => (line.length > max ? [index + 1] : []));
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isCallExpression(parent)) {
    const first = parent.arguments[0];
    if (first && ts.isStringLiteral(first)) return `${first.text} (callback)`;
  }
  return '<anonymous>';
}

/** Every function with a body: declarations, methods, accessors, constructors, arrows, function expressions. */
export function functionSpans(file: string): FunctionSpan[] {
  const source = parse(file);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file, name: functionName(node), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

/** Relative imports and re-exports of a file, resolved to repository paths. */
export function importEdges(file: string): ImportEdge[] {
  const source = parse(file);
  const edges: ImportEdge[] = [];
  for (const statement of source.statements) {
    const isImport = ts.isImportDeclaration(statement);
    if (!isImport && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const typeOnly = isImport ? Boolean(statement.importClause?.isTypeOnly) : statement.isTypeOnly;
    const to = relative(ROOT, join(ROOT, file, '..', specifier.text));
    edges.push({ from: file, to, typeOnly });
  }
  return edges;
}

/**
 * The floor of a file: imports may only go to the same floor or lower. Inside operator/diagnosis the
 * entry points sit above the cause chain, the chain above the layers, the layers above the shared
 * context, and that above the evaluators and vocabulary.
 */
export function floorOf(file: string): number {
  const path = file.replace(/^operator\//, '');
  if (path === 'main.ts') return 100;
  if (path === 'log.ts' || path.startsWith('util/')) return 0;
  if (path.startsWith('api/')) return 10;
  if (path.startsWith('capture/') || path.startsWith('schedule/')) return 20;
  if (path.startsWith('probe/')) return 30;
  if (path.startsWith('controller/')) return 50;
  if (path.startsWith('diagnosis/')) {
    const inner = path.slice('diagnosis/'.length);
    if (inner === 'index.ts') return 45;
    // The verdict's rendering: the conditions (render.ts) and status.path (path/), from the layers and the cause.
    if (inner === 'render.ts' || inner.startsWith('path/')) return 44;
    if (inner.startsWith('causes/')) return 43;
    if (inner.startsWith('layers/')) return 42;
    if (['context.ts', 'text.ts', 'objects.ts', 'analysis.ts', 'reproduce.ts'].includes(inner)) return 41;
    return 40;
  }
  throw new Error(`${file}: no floor is defined for it (add it to floorOf)`);
}

/** Runtime import cycles (type-only imports are erased and do not count). */
export function importCycles(files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importEdges(file).filter((e) => !e.typeOnly).map((e) => e.to)]));
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, stack: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(file)), file]);
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...stack, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  return cycles;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = sourceFiles();
  for (const file of files) {
    const fns = file.endsWith('.ts') ? functionSpans(file) : [];
    const longest = fns.reduce((max, fn) => Math.max(max, fn.lines), 0);
    console.log(`${String(lineCount(file)).padStart(5)} lines  longest function ${String(longest).padStart(3)}  ${file}`);
  }
  for (const fn of files.filter((f) => f.endsWith('.ts')).flatMap(functionSpans).filter((fn) => fn.lines > 60)) console.log(`function over 60: ${fn.file}:${fn.line} ${fn.name} (${fn.lines})`);
}
