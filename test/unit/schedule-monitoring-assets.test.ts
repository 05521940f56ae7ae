// The optional monitoring component (config/monitoring): the files parse, fit together, and only use
// the operator's documented metric names. The second part runs promtool (Debian package `prometheus`)
// to check every PromQL expression and to unit-test the example alerts.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const MONITORING_DIR = fileURLToPath(new URL('../../config/monitoring/', import.meta.url));
const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool';

// The metric contract the operator's /metrics must honour (issue 7).
const OPERATOR_METRICS: Record<string, { type: 'gauge' | 'counter' | 'histogram'; labels: string[] }> = {
  netcheck_check_result: { type: 'gauge', labels: ['namespace', 'name', 'result'] },
  netcheck_check_last_run_timestamp_seconds: { type: 'gauge', labels: ['namespace', 'name'] },
  netcheck_run_duration_seconds: { type: 'histogram', labels: ['namespace', 'name', 'result'] },
  netcheck_layer_status: { type: 'gauge', labels: ['namespace', 'name', 'layer', 'status'] },
  netcheck_probe_pod_failures_total: { type: 'counter', labels: ['namespace', 'name', 'reason'] },
  netcheck_workqueue_depth: { type: 'gauge', labels: [] },
  netcheck_reconcile_total: { type: 'counter', labels: ['result'] },
  netcheck_reconcile_duration_seconds: { type: 'histogram', labels: [] },
  netcheck_watch_restarts_total: { type: 'counter', labels: [] },
};

function readYaml<T>(file: string): T {
  return parse(readFileSync(join(MONITORING_DIR, file), 'utf8')) as T;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PrometheusRule {
  apiVersion: string;
  kind: string;
  spec: { groups: Array<{ name: string; rules: Rule[] }> };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string }> };
}

/** Base metric names (histogram series suffixes stripped) of netcheck_* metrics used in a PromQL expression. */
function netcheckMetricsIn(expr: string): string[] {
  const names = expr.match(/\bnetcheck_[a-z_]+/g) ?? [];
  return names.map((name) => {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    return OPERATOR_METRICS[base]?.type === 'histogram' ? base : name;
  });
}

const prometheusRule = readYaml<PrometheusRule>('prometheusrule.yaml');
const rules = prometheusRule.spec.groups.flatMap((group) => group.rules);
const dashboard = JSON.parse(readFileSync(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
const dashboardExprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

describe('monitoring component: files', () => {
  it('kustomization.yaml is a Component whose resources and generated files exist', () => {
    const kustomization = readYaml<{
      apiVersion: string;
      kind: string;
      resources: string[];
      configMapGenerator: Array<{ name: string; files: string[]; options: { labels: Record<string, string> } }>;
    }>('kustomization.yaml');
    expect(kustomization.apiVersion).to.equal('kustomize.config.k8s.io/v1alpha1');
    expect(kustomization.kind).to.equal('Component');
    expect(kustomization.resources).to.have.members(['servicemonitor.yaml', 'prometheusrule.yaml']);
    for (const file of [...kustomization.resources, ...kustomization.configMapGenerator.flatMap((generator) => generator.files)]) {
      expect(existsSync(join(MONITORING_DIR, file)), file).to.equal(true);
    }
    expect(kustomization.configMapGenerator[0].options.labels.grafana_dashboard).to.equal('1');
  });

  it('the ServiceMonitor scrapes the `metrics` port at /metrics of the netcheck-operator Service', () => {
    const monitor = readYaml<{
      apiVersion: string;
      kind: string;
      spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
    }>('servicemonitor.yaml');
    expect(monitor.apiVersion).to.equal('monitoring.coreos.com/v1');
    expect(monitor.kind).to.equal('ServiceMonitor');
    expect(monitor.spec.selector.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'netcheck-operator' });
    expect(monitor.spec.endpoints).to.have.length(1);
    expect(monitor.spec.endpoints[0]).to.include({ port: 'metrics', path: '/metrics' });
    // The alerts select job="netcheck-operator", which jobLabel guarantees.
    expect(monitor.spec.jobLabel).to.equal('app.kubernetes.io/name');
  });

  it('the PrometheusRule has the example alerts', () => {
    expect(prometheusRule.apiVersion).to.equal('monitoring.coreos.com/v1');
    expect(prometheusRule.kind).to.equal('PrometheusRule');
    const byName = new Map(rules.map((rule) => [rule.alert, rule]));
    expect(byName.get('NetworkCheckUnhealthy')).to.include({ expr: 'netcheck_check_result{result="Unhealthy"} == 1', for: '10m' });
    expect(byName.get('NetCheckOperatorDown')?.expr).to.equal('absent(up{job="netcheck-operator"} == 1)');
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).to.be.oneOf(['critical', 'warning', 'info']);
      expect(rule.annotations?.summary, rule.alert).to.be.a('string').and.not.equal('');
    }
  });

  it('the Grafana dashboard is valid JSON with unique ids, no overlapping panels, and defined variables', () => {
    expect(dashboard.uid).to.equal('netcheck-operator');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).to.equal(ids.length);
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).to.be.at.most(24);
      for (let column = x; column < x + w; column++) {
        for (let line = y; line < y + h; line++) {
          const key = `${column},${line}`;
          expect(cells.get(key), `${panel.title} overlaps ${cells.get(key)}`).to.equal(undefined);
          cells.set(key, panel.title);
        }
      }
      if (panel.type !== 'row') expect(panel.targets, panel.title).to.be.an('array').that.is.not.empty;
    }
    const variables = dashboard.templating.list.map((variable) => variable.name);
    expect(variables).to.deep.equal(['datasource', 'namespace', 'check']);
    const used = new Set(JSON.stringify(dashboard).match(/\$\{?([a-z_]+)/g)?.map((ref) => ref.replace(/[${]/g, '')) ?? []);
    for (const name of used) if (!name.startsWith('__')) expect(variables, `$${name} is used but not defined`).to.include(name);
  });

  it('rules and dashboard use only the documented metric names, and the dashboard shows all of them', () => {
    const inRules = rules.flatMap((rule) => netcheckMetricsIn(rule.expr));
    const inDashboard = dashboardExprs.flatMap(netcheckMetricsIn);
    for (const name of [...inRules, ...inDashboard]) expect(Object.keys(OPERATOR_METRICS), name).to.include(name);
    expect(new Set(inDashboard)).to.deep.equal(new Set(Object.keys(OPERATOR_METRICS)));
  });
});

describe('monitoring component: promtool', () => {
  let workDir: string;

  function promtool(...args: string[]): string {
    const run = spawnSync(PROMTOOL_BIN, args, { cwd: workDir, encoding: 'utf8', timeout: 60_000 });
    if (run.error) throw run.error;
    expect(run.status, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`).to.equal(0);
    return run.stdout + run.stderr;
  }

  before(() => {
    const probe = spawnSync(PROMTOOL_BIN, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `promtool '${PROMTOOL_BIN}' not found: install it with 'apt-get install -y --no-install-recommends prometheus' (or set PROMTOOL_BIN)`,
      );
    }
    workDir = mkdtempSync(join(tmpdir(), 'netcheck-promtool-'));
    writeFileSync(join(workDir, 'rules.yaml'), stringify({ groups: prometheusRule.spec.groups }));
  });
  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('accepts the PrometheusRule groups', () => {
    expect(promtool('check', 'rules', 'rules.yaml')).to.include(`SUCCESS: ${rules.length} rules found`);
  });

  it('parses every dashboard query (Grafana variables substituted)', () => {
    const records = dashboardExprs.map((expr, index) => ({
      record: `dashboard:query_${index}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', '.*').replaceAll('$check', '.*'),
    }));
    writeFileSync(join(workDir, 'dashboard.yaml'), stringify({ groups: [{ name: 'dashboard', rules: records }] }));
    expect(promtool('check', 'rules', 'dashboard.yaml')).to.include(`SUCCESS: ${records.length} rules found`);
  });

  it('fires NetworkCheckUnhealthy after 10 minutes Unhealthy and NetCheckOperatorDown after 5 minutes without a scrape', () => {
    const unhealthySeries = 'netcheck_check_result{namespace="shop",name="web-to-db",result="Unhealthy"}';
    const test = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: unhealthySeries, values: '0 0 1x20' }, // Unhealthy from minute 2
            { series: 'netcheck_check_result{namespace="shop",name="web-to-db",result="Healthy"}', values: '1 1 0x20' },
            { series: 'up{job="netcheck-operator"}', values: '1 1 1 0x10' }, // down from minute 3
          ],
          alert_rule_test: [
            { eval_time: '11m', alertname: 'NetworkCheckUnhealthy', exp_alerts: [] },
            {
              eval_time: '13m',
              alertname: 'NetworkCheckUnhealthy',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', namespace: 'shop', name: 'web-to-db', result: 'Unhealthy' },
                  exp_annotations: {
                    summary: 'NetworkCheck shop/web-to-db has been Unhealthy for 10 minutes.',
                    description: 'The diagnosis names the failing layer and root cause: kubectl -n shop describe networkcheck web-to-db',
                  },
                },
              ],
            },
            { eval_time: '7m', alertname: 'NetCheckOperatorDown', exp_alerts: [] },
            {
              eval_time: '9m',
              alertname: 'NetCheckOperatorDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical' },
                  exp_annotations: {
                    summary: 'netcheck-operator has not been scraped successfully for 5 minutes; NetworkChecks are not running.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(workDir, 'alerts-test.yaml'), stringify(test));
    expect(promtool('test', 'rules', 'alerts-test.yaml')).to.include('SUCCESS');
  });
});
