// Draws the path of a run in the terminal: one line per hop with its mark (✓ ✗ ? !), address, node
// and what was measured there; the NetworkPolicy verdict on the edge below the source and above each
// backend; the backends fanned out at the end; the root-cause hop marked, with its evidence under it.
// One drawing per probe vantage (spread: EveryNode), a blank line apart.
// Pure: a NetworkPath and a Style in, lines out (the snapshot tests compare these lines).
import { splitPaths } from '../../operator/diagnosis/index.ts';
import { hopLabel, isEnd, markOf, type Hop, type NetworkPath, type PolicyEdge } from '../path/model.ts';
import { mark, type Style } from '../style.ts';
import { wrap } from './text.ts';

const ROOT_CAUSE = '◀ root cause';
const EVIDENCE_WIDTH = 96;

interface Columns { label: number; address: number; node: number }

function columns(hops: readonly Hop[]): Columns {
  const width = (values: (string | undefined)[]) => Math.max(0, ...values.map((v) => (v ?? '').length));
  return { label: width(hops.map(hopLabel)), address: width(hops.map((h) => h.address)), node: width(hops.map(nodeText)) };
}

function nodeText(hop: Hop): string {
  if (!hop.node) return '';
  if (hop.kind !== 'Backend' || hop.sameNode === undefined) return hop.node;
  return `${hop.node} (${hop.sameNode ? 'same node' : 'other node'})`;
}

function hopLine(style: Style, hop: Hop, cols: Columns): string {
  const { c } = style;
  const label = hop.rootCause ? c.bold(hopLabel(hop).padEnd(cols.label)) : hopLabel(hop).padEnd(cols.label);
  const cells = [`${mark(style, markOf(hop.result))} ${label}`, c.cyan((hop.address ?? '').padEnd(cols.address)), (nodeText(hop)).padEnd(cols.node), hop.detail ?? ''];
  const line = cells.filter((cell, index) => index === 0 || cell.trim() !== '' || index < cells.length - 1).join('  ').trimEnd();
  return hop.rootCause ? `${line}  ${c.red(c.bold(ROOT_CAUSE))}` : line;
}

function edgeLine(style: Style, edge: PolicyEdge): string {
  const policies = edge.policies?.length ? ` ${edge.policies.join(', ')}` : '';
  const text = `${edge.direction.toLowerCase()} ${mark(style, markOf(edge.result))} ${edge.text ?? ''}${policies}`;
  return edge.result === 'Failed' ? style.c.red(text) : style.c.dim(text);
}

function evidenceLines(style: Style, evidence: readonly string[], indent: string): string[] {
  return evidence.flatMap((sentence) => wrap(sentence, EVIDENCE_WIDTH)).map((line) => `${indent}${style.c.dim('┆')} ${line}`);
}

/** The chain: one hop per line, a vertical edge between them (with the source's egress verdict). */
function chainLines(style: Style, path: NetworkPath, chain: readonly Hop[], cols: Columns, evidenceAt: Hop | undefined, more: boolean): string[] {
  const lines: string[] = [];
  chain.forEach((hop, index) => {
    lines.push(hopLine(style, hop, cols));
    if (hop === evidenceAt) lines.push(...evidenceLines(style, path.evidence, '│ '));
    const edge = hop.kind === 'Source' || hop.kind === 'DNS' ? hop.policy : undefined;
    if (edge) lines.push(`│ ${edgeLine(style, edge)}`);
    if (index < chain.length - 1 || more) lines.push(style.c.dim('│'));
  });
  return lines;
}

/** The fan-out: ├─▶ for every backend but the last, └─▶ for the last, its ingress verdict under it. */
function fanOutLines(style: Style, path: NetworkPath, ends: readonly Hop[], cols: Columns, evidenceAt: Hop | undefined): string[] {
  const lines: string[] = [];
  ends.forEach((hop, index) => {
    const last = index === ends.length - 1;
    const branch = ends.length === 1 ? '└─▶ ' : last ? '└─▶ ' : '├─▶ ';
    const under = last ? '    ' : '│   ';
    lines.push(`${style.c.dim(branch)}${hopLine(style, hop, cols)}`);
    if (hop.policy) lines.push(`${style.c.dim(under)}  ${edgeLine(style, hop.policy)}`);
    if (hop === evidenceAt) lines.push(...evidenceLines(style, path.evidence, `${under}  `));
  });
  return lines;
}

/** One vantage's path: the chain, then the fan-out. */
function onePath(style: Style, path: NetworkPath, hops: readonly Hop[], evidenceAt: Hop | undefined): string[] {
  const chain = hops.filter((hop) => !isEnd(hop));
  const ends = hops.filter(isEnd);
  const cols = { chain: columns(chain), ends: columns(ends) };
  // A Service that routes to nothing still gets its (empty) fan-out: "no backend" is the finding.
  const noBackend = ends.length === 0 && chain.some((hop) => hop.kind === 'Service');
  const lines = chainLines(style, path, chain, cols.chain, evidenceAt, ends.length > 0 || noBackend);
  if (ends.length === 0) return noBackend ? [...lines, `${style.c.dim('└─▶ ')}${mark(style, 'unknown')} no backend${path.reason ? ` (${path.reason})` : ''}`] : lines;
  return [...lines, ...fanOutLines(style, path, ends, cols.ends, evidenceAt)];
}

export function renderPath(path: NetworkPath, style: Style): string[] {
  const evidenceAt = path.hops.find((hop) => hop.rootCause);
  const drawn = splitPaths(path.hops).map((hops) => onePath(style, path, hops, evidenceAt));
  const omitted = path.hopsOmitted ? [style.c.dim(`… ${path.hopsOmitted} more ${path.hopsOmitted === 1 ? 'hop' : 'hops'} not kept in status.path`)] : [];
  return [...drawn.flatMap((lines, index) => (index === 0 ? lines : ['', ...lines])), ...omitted];
}
