// The verdict of a finished run: the result line, the path drawn, the root cause with its fix, the
// commands that reproduce the failing step, and what the packet capture saw. Pure: a check in, lines
// out. The root cause is the operator's (status.reason, status.summary): the plugin adds no diagnosis.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { pathFromStatus, splitSummary } from '../path/from-status.ts';
import { mark, type Style } from '../style.ts';
import { renderPath } from './path.ts';
import { wrap } from './text.ts';

const WIDTH = 100;

function resultLine(style: Style, check: NetworkCheck): string {
  const { c } = style;
  const status = check.status ?? {};
  const result = status.result ?? 'Pending';
  const colour = result === 'Healthy' ? c.green : result === 'Unhealthy' ? c.red : c.yellow;
  const state = result === 'Healthy' ? 'ok' : result === 'Unhealthy' ? 'failed' : 'unknown';
  const where = [status.failedLayer, status.reason].filter(Boolean).join('/');
  const what = `${status.target?.source ?? '?'} -> ${status.target?.destination ?? '?'} ${check.spec.protocol ?? 'TCP'}${check.spec.expect === 'Blocked' ? ' (expect blocked)' : ''}`;
  const took = status.lastRun?.durationMs !== undefined ? c.dim(` in ${(status.lastRun.durationMs / 1000).toFixed(1)} s`) : '';
  return `${mark(style, state)} ${c.bold(colour(result))}${where ? ` ${colour(where)}` : ''}  ${what}${took}`;
}

function section(style: Style, title: string, body: string[]): string[] {
  if (body.length === 0) return [];
  return ['', style.c.bold(title), ...body.map((line) => `  ${line}`)];
}

function captureLines(style: Style, check: NetworkCheck): string[] {
  const capture = check.status?.capture;
  if (!capture) return [];
  const points = (capture.points ?? []).map((point) => `${point.point} ${point.pod}: ${point.reason ?? '?'}${point.message ? ` - ${point.message}` : ''}${point.secret ? style.c.dim(` (secret ${point.secret})`) : ''}`);
  return [`${capture.state ?? '?'}${capture.conclusion ? `: ${capture.conclusion}` : ''}`, ...points].flatMap((line) => wrap(line, WIDTH));
}

/** Everything printed after a run (and by describe): result, path, cause, fix, reproduce, capture. */
export function renderVerdict(check: NetworkCheck, style: Style): string[] {
  const status = check.status ?? {};
  const { cause, fix } = splitSummary(status.summary);
  const healthy = status.result === 'Healthy';
  return [
    resultLine(style, check),
    '',
    ...renderPath(pathFromStatus(check), style),
    ...section(style, healthy ? 'Summary' : 'Root cause', wrap(cause, WIDTH)),
    ...section(style, 'Fix', fix ? wrap(fix, WIDTH) : []),
    ...section(style, 'Reproduce', (status.reproduce ?? []).map((line) => `$ ${line}`)),
    ...section(style, 'Capture', captureLines(style, check)),
  ];
}
