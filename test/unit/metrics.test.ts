// Per-check metrics: a run's verdict becomes series; a deleted check's series go away.
import { expect } from 'chai';
import { ControllerMetrics } from '../../operator/controller/metrics.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';

const check: NetworkCheck = { metadata: { namespace: 'shop', name: 'web-to-backend' }, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 80 } } };

describe('per-check metrics', () => {
  it('exports result, last run, duration, layer status and probe failures for a check', async () => {
    const metrics = new ControllerMetrics(false);
    metrics.runCompleted(check, {
      result: 'Unhealthy', failedLayer: 'Endpoints', reason: 'NoEndpoints', summary: 's', reproduce: [],
      layers: [{ type: 'EndpointsReady', status: 'False', reason: 'NoEndpoints', message: 'm', observedGeneration: 1 }],
    }, 2_500, new Date(1_700_000_000_000));
    const text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Unhealthy"} 1');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Healthy"} 0');
    expect(text).to.include('netcheck_check_last_run_timestamp_seconds{namespace="shop",name="web-to-backend"} 1700000000');
    expect(text).to.include('netcheck_run_duration_seconds_sum{namespace="shop",name="web-to-backend",result="Unhealthy"} 2.5');
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="web-to-backend",layer="EndpointsReady",status="False"} 1');
    metrics.runCompleted(check, { result: 'Error', reason: 'ProbeFailed', summary: 's', reproduce: [], layers: [] }, 1_000, new Date());
    expect(await metrics.registry.metrics()).to.include('netcheck_probe_pod_failures_total{namespace="shop",name="web-to-backend",reason="ProbeFailed"} 1');
  });

  it('forgets every series of a deleted check and keeps the others', async () => {
    const metrics = new ControllerMetrics(false);
    const other: NetworkCheck = { ...check, metadata: { namespace: 'shop', name: 'other' } };
    const verdict = { result: 'Healthy' as const, reason: 'Reachable', summary: 's', reproduce: [], layers: [{ type: 'DNSResolved', status: 'True' as const, reason: 'Resolved', message: 'm', observedGeneration: 1 }] };
    metrics.runCompleted(check, verdict, 1_000, new Date());
    metrics.runCompleted(other, verdict, 1_000, new Date());
    await metrics.forgetCheck('shop', 'web-to-backend');
    const text = await metrics.registry.metrics();
    expect(text).to.not.include('name="web-to-backend"');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="other",result="Healthy"} 1');
  });
});
