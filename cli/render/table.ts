// `kubectl netcheck get`: a kubectl-style table of checks, with the history as a sparkline and the
// next scheduled run. Pure: checks in, lines out.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import type { Style } from '../style.ts';
import { sparkline } from './history.ts';
import { age } from './text.ts';

// eslint-disable-next-line no-control-regex
const visible = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visible(text)));

function resultCell(check: NetworkCheck, style: Style): string {
  const result = check.status?.result ?? 'Pending';
  return result === 'Healthy' ? style.c.green(result) : result === 'Unhealthy' ? style.c.red(result) : result === 'Error' ? style.c.yellow(result) : result;
}

function nextRun(check: NetworkCheck, now: Date): string {
  if (check.spec.suspend) return 'suspended';
  const next = check.status?.nextRunTime;
  return next ? `in ${age(next, now)}` : '<none>';
}

export function renderTable(checks: readonly NetworkCheck[], style: Style, now: Date, allNamespaces: boolean): string[] {
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'SOURCE', 'DESTINATION', 'PROTOCOL', 'RESULT', 'LAYER', 'REASON', 'HISTORY', 'NEXT RUN', 'LAST RUN', 'AGE'];
  const rows = checks.map((check) => [
    ...(allNamespaces ? [check.metadata?.namespace ?? ''] : []),
    check.metadata?.name ?? '',
    check.status?.target?.source ?? '',
    check.status?.target?.destination ?? '',
    check.spec.protocol ?? 'TCP',
    resultCell(check, style),
    check.status?.failedLayer ?? '',
    check.status?.reason ?? '',
    sparkline(check.status?.history, style, 10) || '<none>',
    nextRun(check, now),
    check.status?.lastRun?.completionTime ? age(check.status.lastRun.completionTime, now) : '<none>',
    age(check.metadata?.creationTimestamp ? new Date(check.metadata.creationTimestamp).toISOString() : undefined, now),
  ]);
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => visible(row[index]))));
  return [header, ...rows].map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : pad(cell, widths[index]))).join('   ').trimEnd());
}
