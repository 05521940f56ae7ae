// The status patch: applied by the API server as a JSON merge patch (RFC 7386), it must turn the stored
// status into exactly the desired one. A merge patch merges objects at every depth, so a field that
// only the previous run had (lastRun.completionTime) must be removed explicitly, or the next run is
// recorded as already complete and never followed.
import { expect } from 'chai';
import type { NetworkCheckStatus } from '../../operator/api/types.generated.ts';
import { mergePatchFor } from '../../operator/controller/status.ts';
import { applyMergePatch } from '../support/merge-patch.ts';


const completedRun: NetworkCheckStatus = {
  result: 'Healthy',
  lastRun: { id: 'g1-a', generation: 1, trigger: 'FirstRun', startTime: '2026-01-01T10:00:30Z', completionTime: '2026-01-01T10:00:33Z', durationMs: 3000, probePods: ['c-g1-a-0'] },
  history: [{ time: '2026-01-01T10:00:30Z', result: 'Healthy', durationMs: 3000 }],
  conditions: [{ type: 'Ready', status: 'True', reason: 'CheckHealthy', message: 'ok', lastTransitionTime: '2026-01-01T10:00:33Z' }, { type: 'PathMTU', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2026-01-01T10:00:33Z' }],
  reproduce: ['kubectl run ...'],
  nextRunTime: '2026-01-01T10:01:00Z',
};

describe('status patch (JSON merge patch)', () => {
  it('removes the previous run\'s completionTime and duration when the next run is recorded', () => {
    const nextRun: NetworkCheckStatus = {
      ...completedRun,
      lastRun: { id: 'g1-b', generation: 1, trigger: 'Scheduled', startTime: '2026-01-01T10:01:00Z', scheduledTime: '2026-01-01T10:01:00Z', probePods: [] },
      lastScheduledTime: '2026-01-01T10:01:00Z',
    };
    const patch = mergePatchFor(completedRun, nextRun) as { lastRun: Record<string, unknown> };
    expect(patch.lastRun).to.include({ completionTime: null, durationMs: null, id: 'g1-b' });
    expect(applyMergePatch(completedRun, patch)).to.deep.equal(nextRun);
  });

  it('turns any stored status into exactly the desired one: removed keys at every depth, lists replaced whole', () => {
    const cases: [string, NetworkCheckStatus, NetworkCheckStatus][] = [
      ['top-level keys removed', completedRun, { result: 'Error', reason: 'SourceNotFound', conditions: [completedRun.conditions![0]!] }],
      ['a list shrinks and reorders', completedRun, { ...completedRun, conditions: [completedRun.conditions![1]!], history: [] }],
      ['nested keys added', { result: 'Pending' }, completedRun],
      ['from empty', {}, completedRun],
      ['to empty', completedRun, {}],
      ['target summary changes shape', { target: { source: 'pod/web', destination: 'svc/a:80' } }, { target: { source: 'pod/web' } as NetworkCheckStatus['target'] }],
    ];
    for (const [name, from, to] of cases) {
      expect(applyMergePatch(from, mergePatchFor(from, to)), name).to.deep.equal(to);
    }
  });

  it('leaves undefined members out instead of sending them', () => {
    const patch = mergePatchFor({ result: 'Healthy' }, { result: 'Healthy', reason: undefined, lastRun: { id: 'x', completionTime: undefined } });
    expect(patch).to.deep.equal({ result: 'Healthy', lastRun: { id: 'x' } });
  });
});
