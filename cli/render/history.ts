// The history of a check at a glance: one character per past run, oldest left, newest right.
// A Healthy run is a bar whose height is its duration (▁ fast ... █ slow, relative to the slowest
// run shown); an Unhealthy run is ✗ and an Error run is ?, so that the line reads without colour.
import type { HistoryEntry } from '../../operator/api/types.generated.ts';
import type { Style } from '../style.ts';

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export function sparkline(history: readonly HistoryEntry[] | undefined, style: Style, max = 20): string {
  const runs = [...(history ?? [])].slice(0, max).reverse();
  if (runs.length === 0) return '';
  const slowest = Math.max(1, ...runs.map((run) => run.durationMs ?? 0));
  return runs.map((run) => {
    if (run.result === 'Unhealthy') return style.c.red('✗');
    if (run.result === 'Error') return style.c.yellow('?');
    const level = Math.min(BARS.length - 1, Math.floor(((run.durationMs ?? 0) / slowest) * (BARS.length - 1)));
    return style.c.green(BARS[level]);
  }).join('');
}

/** "3 Healthy, 2 Unhealthy". */
export function historyCounts(history: readonly HistoryEntry[] | undefined): string {
  const counts = new Map<string, number>();
  for (const run of history ?? []) counts.set(run.result, (counts.get(run.result) ?? 0) + 1);
  return [...counts.entries()].map(([result, count]) => `${count} ${result}`).join(', ');
}
