// `kubectl netcheck get` and `describe` rendered from statuses the real reconciler wrote: the table
// with its sparkline and next run, the layer tree, and the history line.
import { expect } from 'chai';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { runText } from '../../cli/progress.ts';
import { renderDescribe } from '../../cli/render/describe.ts';
import { sparkline } from '../../cli/render/history.ts';
import { renderTable } from '../../cli/render/table.ts';
import { PLAIN } from '../../cli/style.ts';
import { Cause } from '../../operator/diagnosis/index.ts';
import { checkForCause } from '../support/cause-worlds.ts';

const NOW = new Date('2026-11-21T08:12:00Z');

function withHistory(check: NetworkCheck): NetworkCheck {
  return {
    ...check,
    spec: { ...check.spec, schedule: '*/5 * * * *' },
    status: {
      ...check.status,
      nextRunTime: '2026-11-21T08:15:00Z',
      history: [
        { time: '2026-11-21T08:10:00Z', result: 'Unhealthy', failedLayer: 'NetworkPolicy', reason: 'BlockedByNetworkPolicy', durationMs: 9000 },
        { time: '2026-11-21T08:05:00Z', result: 'Healthy', durationMs: 8000 },
        { time: '2026-11-21T08:00:00Z', result: 'Error', reason: 'ProbeFailed', durationMs: 100 },
        { time: '2026-11-21T07:55:00Z', result: 'Healthy', durationMs: 1000 },
      ],
    },
  };
}

describe('kubectl netcheck: get and describe', () => {
  it('the sparkline: oldest left, a Healthy run a bar by its duration, Unhealthy ✗, Error ?', () => {
    expect(sparkline(withHistory({ spec: { source: {}, destination: {} } } as NetworkCheck).status!.history, PLAIN)).to.equal('▁?▇✗');
    expect(sparkline([], PLAIN)).to.equal('');
  });

  it('get: one row per check with the result, the failing layer, the sparkline and the next run', async () => {
    const blocked = withHistory(await checkForCause(Cause.BlockedByNetworkPolicy));
    const lines = renderTable([blocked], PLAIN, NOW, true);
    expect(lines[0]).to.match(/^NAMESPACE +NAME +SOURCE +DESTINATION +PROTOCOL +RESULT +LAYER +REASON +HISTORY +NEXT RUN +LAST RUN +AGE$/);
    expect(lines[1]).to.match(/^shop +web-to-backend +pod\/web +svc\/backend:8080 +TCP +Unhealthy +NetworkPolicy +BlockedByNetworkPolicy +▁\?▇✗ +in 3m +2m +2m$/);
    expect(renderTable([blocked], PLAIN, NOW, false)[0]).to.match(/^NAME /);
  });

  it('describe: the layers as a tree with marks and evidence, the history and the next run, then the verdict', async () => {
    const text = renderDescribe(withHistory(await checkForCause(Cause.BlockedByNetworkPolicy)), PLAIN, NOW).join('\n');
    expect(text).to.match(/^Schedule: +\*\/5 \* \* \* \*; next run 2026-11-21T08:15:00Z \(in 3m\)$/m);
    expect(text).to.match(/^History: +▁\?▇✗ +oldest left; 1 Unhealthy, 2 Healthy, 1 Error$/m);
    expect(text).to.match(/^├─ ✓ Source +SourcePodRunning$/m);
    expect(text).to.match(/^├─ ✗ NetworkPolicy +BlockedByNetworkPolicy$/m);
    expect(text).to.match(/^│ {6}Ingress to pod shop\/backend-7d9f-abcde is denied/m);
    expect(text).to.match(/^└─ \? NorthSouth +NotApplicable$/m);
    expect(text).to.match(/◀ root cause/);
  });

  it('describe of a check without a finished run shows what the operator says instead', async () => {
    const check = await checkForCause(Cause.NoEndpoints);
    const pending: NetworkCheck = { ...check, status: { result: 'Error', conditions: [{ type: 'Stalled', status: 'True', reason: 'SourceNotFound', message: 'spec.source.pod: pod shop/web was not found; create it or fix the name.', lastTransitionTime: '2026-11-21T08:10:00Z' }] } };
    const text = renderDescribe(pending, PLAIN, NOW).join('\n');
    expect(text).to.match(/^ {2}Stalled=True SourceNotFound: spec\.source\.pod: pod shop\/web was not found/m);
    expect(text).to.not.include('root cause');
  });

  it('run progress: a failing verdict (Stalled=True CheckUnhealthy) reads as a finished run, a stall before any run as a stall', async () => {
    const check = await checkForCause(Cause.BlockedByNetworkPolicy);
    expect(check.status?.conditions?.find((c) => c.type === 'Stalled')).to.include({ status: 'True', reason: 'CheckUnhealthy' });
    expect(runText(check)).to.equal(`Run ${check.status?.lastRun?.id} finished: Unhealthy`);
    const stalled = { type: 'Stalled', status: 'True' as const, reason: 'SourceNotFound', message: 'spec.source.pod: pod shop/web was not found', lastTransitionTime: NOW.toISOString() };
    expect(runText({ ...check, status: { conditions: [stalled] } })).to.equal('Stalled: SourceNotFound: spec.source.pod: pod shop/web was not found');
  });
});
