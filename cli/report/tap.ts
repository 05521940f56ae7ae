// TAP version 14 (as netassert prints): one test point per check, the failure's layer, reason and
// summary as a YAML diagnostic block under a failing point.
import { stringify } from 'yaml';
import type { SuiteResult } from './results.ts';

export function renderTap(suite: SuiteResult): string {
  const lines = ['TAP version 14', `1..${suite.cases.length}`];
  suite.cases.forEach((c, index) => {
    const ok = c.result === 'Healthy';
    lines.push(`${ok ? 'ok' : 'not ok'} ${index + 1} - ${c.name.replace(/#/g, '\\#')}`);
    if (ok) return;
    const diagnostic = { result: c.result, layer: c.failedLayer ?? null, reason: c.reason ?? null, summary: c.summary ?? null, check: `${c.namespace}/${c.check ?? '-'}`, duration_ms: c.durationMs };
    lines.push('  ---', ...stringify(diagnostic, { lineWidth: 0 }).trimEnd().split('\n').map((line) => `  ${line}`), '  ...');
  });
  return `${lines.join('\n')}\n`;
}

export function renderJson(suite: SuiteResult): string {
  const { name, startedAt, durationMs, cases } = suite;
  const passed = cases.filter((c) => c.result === 'Healthy').length;
  return `${JSON.stringify({ name, startedAt: startedAt.toISOString(), durationMs, tests: cases.length, passed, failed: cases.length - passed, cases }, null, 2)}\n`;
}
