// JUnit XML for CI systems (Jenkins, GitLab, GitHub Actions reporters): one <testcase> per check; an
// Unhealthy check is a <failure> and an Error one an <error>, each carrying the failing layer, the
// reason and the summary. The shape satisfies both well-known schemas at once - the Jenkins one
// (dtkit junit-4.xsd) and Ant's (windyroad JUnit.xsd, which wants package, id, hostname, a timestamp
// without zone, properties and system-out/err) - and test/unit/cli-report.test.ts validates it
// against both with xmllint.
import { hostname } from 'node:os';
import { VERSION } from '../program.ts';
import { errors, failures, type CaseResult, type SuiteResult } from './results.ts';

/** XML 1.0 text: escapes markup and drops the control characters XML cannot carry. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);
const attrs = (values: Record<string, string | number>) => Object.entries(values).map(([k, v]) => `${k}="${xmlEscape(String(v))}"`).join(' ');

function caseBody(c: CaseResult): string {
  const lines = [`layer: ${c.failedLayer ?? '-'}`, `reason: ${c.reason ?? '-'}`, `summary: ${c.summary ?? '-'}`, `check: ${c.namespace}/${c.check ?? '-'} (${c.source ?? '?'} -> ${c.destination ?? '?'} ${c.protocol ?? ''})`];
  return xmlEscape(lines.join('\n'));
}

function testcase(c: CaseResult): string {
  const head = `    <testcase ${attrs({ name: c.name, classname: `netcheck.${c.namespace || 'default'}`, time: seconds(c.durationMs) })}`;
  if (c.result === 'Healthy') return `${head}/>`;
  const element = c.result === 'Unhealthy' ? 'failure' : 'error';
  const message = `${[c.failedLayer, c.reason].filter(Boolean).join('/') || c.result}: ${c.summary ?? ''}`.trim();
  return `${head}>\n      <${element} ${attrs({ message, type: c.reason ?? c.result })}>${caseBody(c)}</${element}>\n    </testcase>`;
}

export function renderJUnit(suite: SuiteResult): string {
  const timestamp = suite.startedAt.toISOString().replace(/\.\d{3}Z$/, '');
  const head = attrs({
    name: suite.name, package: 'netcheck', id: 0, hostname: hostname() || 'localhost', timestamp,
    tests: suite.cases.length, failures: failures(suite), errors: errors(suite), time: seconds(suite.durationMs),
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    `  <testsuite ${head}>`,
    `    <properties><property ${attrs({ name: 'generator', value: `kubectl-netcheck ${VERSION}` })}/></properties>`,
    ...suite.cases.map(testcase),
    '    <system-out/>',
    '    <system-err/>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
