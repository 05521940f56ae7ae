// The kstatus conditions of each check state (operator/controller/health.ts), for the cases the
// integration test cannot stage on demand: a verdict that finishes after the spec changed, a stall
// that clears on a suspended check, and what a re-run keeps. test/integration/gitops-health.test.ts
// feeds real stored objects to kstatus itself.
import { expect } from 'chai';
import { mergeConditions, stalledBeforeProbing, type DesiredCondition } from '../../operator/api/conditions.ts';
import type { Condition } from '../../operator/api/types.generated.ts';
import { completedRunConditions, runningConditions, settledConditions, stallConditions, verdictConditions } from '../../operator/controller/health.ts';

const T0 = new Date('2026-01-01T10:00:00Z');
const T1 = new Date('2026-01-01T10:01:00Z');
const stored = (desired: DesiredCondition[]): Condition[] => mergeConditions(undefined, desired, T0);
const byType = (conditions: DesiredCondition[]) => Object.fromEntries(conditions.map((c) => [c.type, `${c.status}/${c.reason}@${c.observedGeneration}`]));
const layer: DesiredCondition = { type: 'EndpointsReady', status: 'False', reason: 'NoEndpoints', message: 'none', observedGeneration: 1 };

describe('GitOps health conditions per check state', () => {
  it('a failing verdict is Stalled with the summary; a healthy one is Ready', () => {
    expect(byType(verdictConditions('Unhealthy', 'no endpoints', 3))).to.deep.equal({ Ready: 'False/CheckUnhealthy@3', Reconciling: 'False/Observed@3', Stalled: 'True/CheckUnhealthy@3' });
    expect(verdictConditions('Error', 'evicted', 3).find((c) => c.type === 'Stalled')).to.include({ status: 'True', reason: 'CheckError', message: 'evicted' });
    expect(byType(verdictConditions('Healthy', 'ok', 3))).to.deep.equal({ Ready: 'True/CheckHealthy@3', Reconciling: 'False/Observed@3', Stalled: 'False/Observed@3' });
  });

  it('tells a stall before probing from a failed verdict', () => {
    expect(stalledBeforeProbing(stored(stallConditions('SourceNotFound', 'spec.source.pod: missing', 1)))).to.equal(true);
    expect(stalledBeforeProbing(stored(verdictConditions('Unhealthy', 'no endpoints', 1)))).to.equal(false);
    expect(stalledBeforeProbing(undefined)).to.equal(false);
  });

  it('a re-run of the same generation keeps Ready and Stalled (and their transition times); a new generation does not', () => {
    const unhealthy = stored(verdictConditions('Unhealthy', 'no endpoints', 1));
    const rerun = runningConditions(unhealthy, { id: 'g1-b', generation: 1 }, 1, 'Run g1-b in progress.');
    expect(byType(rerun)).to.deep.equal({ Ready: 'False/CheckUnhealthy@1', Reconciling: 'False/RerunInProgress@1', Stalled: 'True/CheckUnhealthy@1' });
    const merged = mergeConditions(unhealthy, rerun, T1);
    expect(merged.every((c) => c.lastTransitionTime === '2026-01-01T10:00:00Z'), 'no condition flipped').to.equal(true);

    const specChanged = runningConditions(unhealthy, { id: 'g2-a', generation: 2 }, 2, 'Run g2-a started.');
    expect(byType(specChanged)).to.deep.equal({ Reconciling: 'True/RunInProgress@2', Stalled: 'False/Observed@2', Ready: 'Unknown/RunPending@2' });
    // A run of generation 1 still in flight after the spec changed to 2 is not a re-run of generation 2.
    expect(byType(runningConditions(unhealthy, { id: 'g1-b', generation: 1 }, 2, 'm'))).to.include({ Reconciling: 'True/RunInProgress@2' });
    // After a stall, no verdict stands: the next run is InProgress.
    expect(byType(runningConditions(stored(stallConditions('SourceNotFound', 'm', 1)), { id: 'g1-c', generation: 1 }, 1, 'm'))).to.include({ Reconciling: 'True/RunInProgress@1' });
  });

  it('a verdict that finishes after the spec changed is no verdict of the new spec while its run is due', () => {
    const outdated = completedRunConditions('Healthy', 'ok', [layer], { id: 'g1-a', generation: 1 }, 2, true);
    expect(byType(outdated)).to.deep.equal({ Ready: 'Unknown/RunPending@2', Reconciling: 'True/SpecChanged@2', Stalled: 'False/Observed@2', EndpointsReady: 'False/NoEndpoints@1' });
    // Suspended (no run due): the verdict stands for the current generation, as a settled check's does.
    expect(byType(completedRunConditions('Healthy', 'ok', [], { id: 'g1-a', generation: 1 }, 2, false))).to.include({ Ready: 'True/CheckHealthy@2' });
    expect(byType(completedRunConditions('Unhealthy', 's', [layer], { id: 'g2-a', generation: 2 }, 2, true))).to.include({ Stalled: 'True/CheckUnhealthy@2', EndpointsReady: 'False/NoEndpoints@1' });
  });

  it('a settled check re-derives its verdict; a cleared stall on a suspended check is no verdict', () => {
    expect(byType(settledConditions(stored(verdictConditions('Unhealthy', 's', 1)), 'Unhealthy', 's', 2, false))).to.include({ Stalled: 'True/CheckUnhealthy@2' });
    expect(byType(settledConditions(stored(stallConditions('SourceNotFound', 'm', 1)), 'Error', 'm', 1, true))).to.deep.equal({ Ready: 'Unknown/Suspended@1', Reconciling: 'False/Observed@1', Stalled: 'False/Observed@1' });
    expect(byType(settledConditions(undefined, undefined, undefined, 1, false))).to.include({ Ready: 'Unknown/RunPending@1' });
  });
});
