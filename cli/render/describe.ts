// `kubectl netcheck describe NAME`: the check's identity and schedule, its layers as a tree with
// ✓/✗/? and their evidence, the history as a sparkline, the next run, then the verdict with the path
// drawn (render/verdict.ts). Pure: a check in, lines out.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { LADDER } from '../../operator/diagnosis/index.ts';
import { layerCondition, type LayerName } from '../path/layers.ts';
import { mark, markOfStatus, type Style } from '../style.ts';
import { historyCounts, sparkline } from './history.ts';
import { age, wrap } from './text.ts';
import { renderVerdict } from './verdict.ts';

const WIDTH = 96;
const LAYER_WIDTH = Math.max(...LADDER.map((layer) => layer.length));

function field(style: Style, name: string, value: string): string {
  return `${style.c.bold(`${name}:`.padEnd(13))}${value}`;
}

function scheduleText(check: NetworkCheck, now: Date): string {
  const { spec, status } = check;
  if (!spec.schedule) return 'once per spec change';
  const next = status?.nextRunTime ? `next run ${status.nextRunTime} (in ${age(status.nextRunTime, now)})` : 'no next run';
  return `${spec.schedule}${spec.timeZone ? ` ${spec.timeZone}` : ''}${spec.suspend ? ', suspended' : ''}; ${next}`;
}

function header(check: NetworkCheck, style: Style, now: Date): string[] {
  const { status } = check;
  const lastRun = status?.lastRun?.completionTime ? `${age(status.lastRun.completionTime, now)} ago (run ${status.lastRun.id}, ${status.lastRun.trigger ?? '?'})` : 'none';
  const history = status?.history?.length ? `${sparkline(status.history, style)}  ${style.c.dim(`oldest left; ${historyCounts(status.history)}`)}` : 'none';
  return [
    field(style, 'Name', check.metadata?.name ?? ''),
    field(style, 'Namespace', check.metadata?.namespace ?? ''),
    field(style, 'Source', status?.target?.source ?? ''),
    field(style, 'Destination', `${status?.target?.destination ?? ''} ${check.spec.protocol ?? 'TCP'}${check.spec.expect === 'Blocked' ? ', expect blocked' : ''}`),
    field(style, 'Schedule', scheduleText(check, now)),
    field(style, 'Last run', lastRun),
    field(style, 'History', history),
  ];
}

/** The layers as a tree: ├─ ✓ DNS  NameResolved, the evidence wrapped under it. */
export function layerTree(check: NetworkCheck, style: Style): string[] {
  const layers = (LADDER as LayerName[]).map((layer) => [layer, layerCondition(check, layer)] as const).filter(([, condition]) => condition);
  return layers.flatMap(([layer, condition], index) => {
    const last = index === layers.length - 1;
    const state = markOfStatus(condition!.status);
    const title = `${style.c.dim(last ? '└─' : '├─')} ${mark(style, state)} ${layer.padEnd(LAYER_WIDTH)}  ${state === 'failed' ? style.c.red(condition!.reason) : condition!.reason}`;
    const body = wrap(condition!.message, WIDTH).map((line) => `${style.c.dim(last ? '   ' : '│  ')}    ${style.c.dim(line)}`);
    return [title, ...body];
  });
}

function pendingLines(check: NetworkCheck, style: Style): string[] {
  const conditions = check.status?.conditions ?? [];
  const shown = conditions.filter((c) => ['Ready', 'Reconciling', 'Stalled'].includes(c.type) && c.status !== 'False');
  return [style.c.bold('Status'), ...shown.flatMap((c) => wrap(`${c.type}=${c.status} ${c.reason}: ${c.message}`, WIDTH).map((line) => `  ${line}`))];
}

export function renderDescribe(check: NetworkCheck, style: Style, now: Date): string[] {
  const finished = Boolean(check.status?.lastRun?.completionTime);
  const tree = layerTree(check, style);
  return [
    ...header(check, style, now),
    '',
    ...(tree.length ? [style.c.bold('Layers'), ...tree, ''] : []),
    ...(finished ? renderVerdict(check, style) : pendingLines(check, style)),
  ];
}
