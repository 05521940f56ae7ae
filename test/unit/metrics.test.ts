// Per-check metrics: a run's duration and probe failures are recorded when it completes; the gauges
// (result, last run, layer status) follow the check's stored status; a deleted check's series go away.
import { expect } from 'chai';
import { ControllerMetrics } from '../../operator/controller/metrics.ts';
import type { Condition, NetworkCheck, NetworkCheckStatus } from '../../operator/api/types.generated.ts';

const check: NetworkCheck = { metadata: { namespace: 'shop', name: 'web-to-backend' }, spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 80 } } };
const withStatus = (status: NetworkCheckStatus, base: NetworkCheck = check): NetworkCheck => ({ ...base, status });
const cond = (type: string, status: Condition['status'], reason = 'R'): Condition => ({ type, status, reason, message: 'm', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' });
const settled = [cond('Ready', 'False', 'CheckUnhealthy'), cond('Reconciling', 'False'), cond('Stalled', 'False')];

describe('per-check metrics', () => {
  it('records a completed run\'s duration, and probe failures by reason', async () => {
    const metrics = new ControllerMetrics(false);
    metrics.runCompleted(check, { result: 'Unhealthy', failedLayer: 'Endpoints', reason: 'NoEndpoints', summary: 's', reproduce: [], layers: [] }, 2_500, new Date());
    let text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_run_duration_seconds_sum{namespace="shop",name="web-to-backend",result="Unhealthy"} 2.5');
    expect(text).to.include('netcheck_run_duration_seconds_count{namespace="shop",name="web-to-backend",result="Unhealthy"} 1');
    expect(text).to.not.include('netcheck_probe_pod_failures_total{');
    metrics.runCompleted(check, { result: 'Error', reason: 'ProbeFailed', summary: 's', reproduce: [], layers: [] }, 1_000, new Date());
    metrics.runCompleted(check, { result: 'Error', reason: 'ProbeFailed', summary: 's', reproduce: [], layers: [] }, 1_000, new Date());
    text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_probe_pod_failures_total{namespace="shop",name="web-to-backend",reason="ProbeFailed"} 2');
  });

  it('sets result, last run and layer status from the stored status', async () => {
    const metrics = new ControllerMetrics(false);
    metrics.syncCheck(withStatus({
      result: 'Unhealthy',
      lastRun: { id: 'g1-a', startTime: '2023-11-14T22:13:18Z', completionTime: '2023-11-14T22:13:20Z' },
      conditions: [...settled, cond('EndpointsReady', 'False', 'NoEndpoints'), cond('DNSResolved', 'True')],
    }));
    const text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Unhealthy"} 1');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Healthy"} 0');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Error"} 0');
    expect(text).to.include('netcheck_check_last_run_timestamp_seconds{namespace="shop",name="web-to-backend"} 1700000000');
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="web-to-backend",layer="EndpointsReady",status="False"} 1');
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="web-to-backend",layer="EndpointsReady",status="True"} 0');
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="web-to-backend",layer="DNSResolved",status="True"} 1');
    expect(text, 'kstatus conditions are not layers').to.not.include('layer="Ready"');
  });

  it('turns the result to Error when the check stalls without a run, and drops the layers it no longer evaluates', async () => {
    const metrics = new ControllerMetrics(false);
    metrics.syncCheck(withStatus({ result: 'Healthy', conditions: [cond('Ready', 'True'), cond('Reconciling', 'False'), cond('Stalled', 'False'), cond('SourceReady', 'True')] }));
    metrics.syncCheck(withStatus({ result: 'Error', reason: 'SourceNotFound', conditions: [cond('Stalled', 'True', 'SourceNotFound'), cond('Ready', 'False', 'SourceNotFound'), cond('Reconciling', 'False')] }));
    const text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Error"} 1');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Healthy"} 0');
    expect(text).to.not.include('layer="SourceReady"');
  });

  it('keeps the last verdict\'s layers and run time while a run is in flight, and has no result before the first verdict', async () => {
    const metrics = new ControllerMetrics(false);
    metrics.syncCheck(withStatus({ result: 'Running', conditions: [cond('Reconciling', 'True', 'RunInProgress'), cond('Ready', 'Unknown', 'RunPending')] }));
    let text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Healthy"} 0');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Unhealthy"} 0');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="web-to-backend",result="Error"} 0');
    expect(text).to.not.include('netcheck_check_last_run_timestamp_seconds{');

    metrics.syncCheck(withStatus({ result: 'Healthy', conditions: [...settled, cond('PathMTU', 'Unknown')], lastRun: { id: 'g1-a', startTime: '2023-11-14T22:13:19Z', completionTime: '2023-11-14T22:13:20Z' }, history: [{ time: '2023-11-14T22:13:19Z', result: 'Healthy', durationMs: 1_400 }] }));
    // The next run: lastRun has no completion yet and the layer conditions are not in the status.
    metrics.syncCheck(withStatus({ result: 'Healthy', conditions: [cond('Reconciling', 'True', 'RunInProgress'), cond('Ready', 'True')], lastRun: { id: 'g1-b', startTime: '2023-11-14T22:14:00Z' }, history: [{ time: '2023-11-14T22:13:19Z', result: 'Healthy', durationMs: 1_400 }] }));
    text = await metrics.registry.metrics();
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="web-to-backend",layer="PathMTU",status="Unknown"} 1');
    expect(text).to.include('netcheck_check_last_run_timestamp_seconds{namespace="shop",name="web-to-backend"} 1700000000');
  });

  it('forgets every series of a deleted check and keeps the others', async () => {
    const metrics = new ControllerMetrics(false);
    const other: NetworkCheck = { ...check, metadata: { namespace: 'shop', name: 'other' } };
    const status: NetworkCheckStatus = { result: 'Healthy', conditions: [...settled, cond('DNSResolved', 'True')], lastRun: { id: 'g1-a', completionTime: '2023-11-14T22:13:20Z' } };
    const verdict = { result: 'Healthy' as const, reason: 'Reachable', summary: 's', reproduce: [], layers: [] };
    for (const c of [check, other]) {
      metrics.syncCheck(withStatus(status, c));
      metrics.runCompleted(c, verdict, 1_000, new Date());
    }
    await metrics.forgetCheck('shop', 'web-to-backend');
    const text = await metrics.registry.metrics();
    expect(text).to.not.include('name="web-to-backend"');
    expect(text).to.include('netcheck_check_result{namespace="shop",name="other",result="Healthy"} 1');
    expect(text).to.include('netcheck_layer_status{namespace="shop",name="other",layer="DNSResolved",status="True"} 1');
  });
});
