// Runs config/argocd/networkcheck-health.lua in a real Lua 5.1 interpreter (Argo CD uses gopher-lua,
// which follows Lua 5.1) against sample NetworkCheck objects.
// Needs the Debian package lua5.1 (`apt-get install -y lua5.1`); LUA_BIN overrides the binary.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ARGOCD_DIR, ArgoHealth, HEALTH_SCRIPT, type Health } from '../support/gitops-health.ts';

const CONFIGMAP_PATCH = join(ARGOCD_DIR, 'argocd-cm-patch.yaml');
const HEALTH_KEY = 'resource.customizations.health.netcheck.dev_NetworkCheck';

let argo: ArgoHealth;
const runHealthCheck = (object: unknown): Health => argo.of(object);

function check(generation: number, status?: Record<string, unknown>): Record<string, unknown> {
  const object: Record<string, unknown> = {
    apiVersion: 'netcheck.dev/v1alpha1',
    kind: 'NetworkCheck',
    metadata: { name: 'web-to-backend', namespace: 'shop', generation },
    spec: { protocol: 'TCP' },
  };
  if (status) object.status = status;
  return object;
}

describe('Argo CD health check (Lua, run in a real interpreter)', () => {
  before(() => {
    argo = ArgoHealth.open();
  });
  after(() => {
    argo?.close();
  });

  it('Healthy -> Healthy, with the summary as message', () => {
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', summary: 'TCP 10.96.0.12:8080 connected in 2 ms.' }))).to.deep.equal({
      status: 'Healthy',
      message: 'TCP 10.96.0.12:8080 connected in 2 ms.',
    });
  });

  it('Unhealthy -> Degraded, with layer/reason and the summary', () => {
    const health = runHealthCheck(
      check(1, {
        observedGeneration: 1,
        result: 'Unhealthy',
        failedLayer: 'NetworkPolicy',
        reason: 'BlockedByNetworkPolicy',
        summary: 'NetworkPolicy shop/deny-all selects the destination pod and allows no ingress from web-1.',
      }),
    );
    expect(health).to.deep.equal({
      status: 'Degraded',
      message: 'NetworkPolicy/BlockedByNetworkPolicy: NetworkPolicy shop/deny-all selects the destination pod and allows no ingress from web-1.',
    });
  });

  it('Error -> Degraded, falling back to the result when there is no summary', () => {
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Error', reason: 'ProbePodFailed' }))).to.deep.equal({
      status: 'Degraded',
      message: 'ProbePodFailed: Error',
    });
  });

  it('Pending and Running -> Progressing', () => {
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Pending' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Waiting for the first result',
    });
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Running' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Check is running',
    });
  });

  it('no status yet -> Progressing', () => {
    expect(runHealthCheck(check(1))).to.deep.equal({ status: 'Progressing', message: 'Waiting for the operator to pick up the check' });
  });

  it('observedGeneration behind metadata.generation -> Progressing, even if the old result was Healthy', () => {
    expect(runHealthCheck(check(4, { observedGeneration: 3, result: 'Healthy' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 4',
    });
    expect(runHealthCheck(check(1, { result: 'Healthy' })).status).to.equal('Progressing');
  });

  it('Stalled=True -> Degraded with the condition message, whatever the result', () => {
    const stalled = check(2, {
      observedGeneration: 2,
      result: 'Healthy',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'invalid', observedGeneration: 2, lastTransitionTime: '2025-06-02T10:00:00Z' },
        {
          type: 'Stalled',
          status: 'True',
          reason: 'InvalidSchedule',
          message: "spec.schedule: field 'hour' value '25' is out of range 0-23",
          observedGeneration: 2,
          lastTransitionTime: '2025-06-02T10:00:00Z',
        },
      ],
    });
    expect(runHealthCheck(stalled)).to.deep.equal({
      status: 'Degraded',
      message: "spec.schedule: field 'hour' value '25' is out of range 0-23",
    });
  });

  it('ignores Stalled=False and a Stalled=True left over from an older generation', () => {
    const conditions = (stalledStatus: string, conditionGeneration: number) => [
      { type: 'Stalled', status: stalledStatus, reason: 'InvalidSchedule', message: 'old', observedGeneration: conditionGeneration, lastTransitionTime: '2025-06-02T10:00:00Z' },
    ];
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', conditions: conditions('False', 3) })).status).to.equal('Healthy');
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', conditions: conditions('True', 2) })).status).to.equal('Healthy');
  });

  const cond = (type: string, status: string, reason: string, message: string, observedGeneration: number) =>
    ({ type, status, reason, message, observedGeneration, lastTransitionTime: '2025-06-02T10:00:00Z' });

  it('Reconciling=True (a spec without a verdict yet) -> Progressing with its message, even while the old result is Healthy', () => {
    const specChanged = check(2, {
      observedGeneration: 2, result: 'Healthy', summary: 'old verdict',
      conditions: [
        cond('Reconciling', 'True', 'RunInProgress', 'Run g2-abc started (SpecChanged).', 2),
        cond('Stalled', 'False', 'Observed', 'ok', 2),
        cond('Ready', 'Unknown', 'RunPending', 'Generation 2 has no verdict yet: its first run has not finished.', 2),
      ],
    });
    expect(runHealthCheck(specChanged)).to.deep.equal({ status: 'Progressing', message: 'Run g2-abc started (SpecChanged).' });
  });

  it('a completed failing verdict is Stalled=True: Degraded with layer/reason and the summary', () => {
    const unhealthy = check(1, {
      observedGeneration: 1, result: 'Unhealthy', failedLayer: 'Endpoints', reason: 'NoEndpoints', summary: 'Service shop/backend has no ready endpoints.',
      conditions: [
        cond('Ready', 'False', 'CheckUnhealthy', 'Service shop/backend has no ready endpoints.', 1),
        cond('Reconciling', 'False', 'Observed', 'idle', 1),
        cond('Stalled', 'True', 'CheckUnhealthy', 'Service shop/backend has no ready endpoints.', 1),
      ],
    });
    expect(runHealthCheck(unhealthy)).to.deep.equal({ status: 'Degraded', message: 'Endpoints/NoEndpoints: Service shop/backend has no ready endpoints.' });
  });

  it('a re-run of an unchanged spec (Reconciling=False, RerunInProgress) keeps the last verdict: no flap to Progressing', () => {
    const rerun = check(1, {
      observedGeneration: 1, result: 'Healthy', summary: 'TCP connected.',
      lastRun: { id: 'g1-b', trigger: 'Scheduled', startTime: '2025-06-02T10:01:00Z' },
      conditions: [
        cond('Ready', 'True', 'CheckHealthy', 'TCP connected.', 1),
        cond('Reconciling', 'False', 'RerunInProgress', 'Run g1-b in progress.', 1),
        cond('Stalled', 'False', 'Observed', 'ok', 1),
      ],
    });
    expect(runHealthCheck(rerun)).to.deep.equal({ status: 'Healthy', message: 'TCP connected.' });
  });

  it('passes hostile strings through the Lua encoding unchanged', () => {
    const summary = 'quote " backslash \\ newline \n tab \t ]] [[ --[==[ \\065 ü 日本 🚀 nul \u0000 end';
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Healthy', summary }))).to.deep.equal({ status: 'Healthy', message: summary });
  });

  it('the argocd-cm patch carries exactly the Lua file under the Argo CD key', () => {
    const patch = parse(readFileSync(CONFIGMAP_PATCH, 'utf8')) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    expect(patch.kind).to.equal('ConfigMap');
    expect(patch.metadata.name).to.equal('argocd-cm');
    expect(Object.keys(patch.data)).to.deep.equal([HEALTH_KEY]);
    expect(patch.data[HEALTH_KEY]).to.equal(readFileSync(HEALTH_SCRIPT, 'utf8'));
  });
});
