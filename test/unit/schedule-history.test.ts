import { expect } from 'chai';
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_EVENT_MESSAGE_LENGTH,
  appendHistory,
  detectTransition,
} from '../../operator/schedule/history.ts';
import type { HistoryEntry } from '../../operator/schedule/history.ts';

function entry(minute: number, result: HistoryEntry['result'] = 'Healthy'): HistoryEntry {
  return { time: `2025-06-02T10:${String(minute).padStart(2, '0')}:00Z`, result, durationMs: 1000 + minute };
}

describe('history: appendHistory', () => {
  it('puts the newest entry first and caps at the default limit of 10', () => {
    let history: HistoryEntry[] | undefined;
    for (let minute = 0; minute < 15; minute++) history = appendHistory(history, entry(minute));
    expect(DEFAULT_HISTORY_LIMIT).to.equal(10);
    expect(history).to.have.length(10);
    expect(history?.[0].time).to.equal('2025-06-02T10:14:00Z');
    expect(history?.[9].time).to.equal('2025-06-02T10:05:00Z');
  });

  it('honours historyLimit, including 0 and shrinking an existing history', () => {
    const five = [4, 3, 2, 1, 0].map((minute) => entry(minute));
    expect(appendHistory(five, entry(5), 3).map((e) => e.time)).to.deep.equal([
      '2025-06-02T10:05:00Z',
      '2025-06-02T10:04:00Z',
      '2025-06-02T10:03:00Z',
    ]);
    expect(appendHistory(five, entry(5), 0)).to.deep.equal([]);
    expect(appendHistory(five, entry(5), 1)).to.deep.equal([entry(5)]);
  });

  it('clamps out-of-range limits to 0-100', () => {
    let history: HistoryEntry[] = [];
    for (let i = 0; i < 120; i++) history = appendHistory(history, { time: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(), result: 'Healthy' }, 500);
    expect(history).to.have.length(100);
    expect(appendHistory(history, entry(1), -3)).to.deep.equal([]);
  });

  it('keeps the capture Secrets an entry names, and drops undefined fields', () => {
    const entry = { time: '2025-06-02T10:00:00Z', result: 'Unhealthy', reason: undefined, captureSecrets: ['c-cap-g1-x-src'] } as HistoryEntry;
    expect(appendHistory([], entry, 5)).to.deep.equal([{ time: '2025-06-02T10:00:00Z', result: 'Unhealthy', captureSecrets: ['c-cap-g1-x-src'] }]);
    expect(Object.keys(appendHistory([], entry, 5)[0]!)).to.not.include('reason');
  });

  it('replaces the newest entry when the same run is appended again (retried status update)', () => {
    const history = appendHistory([entry(1), entry(0)], { ...entry(1, 'Unhealthy'), failedLayer: 'DNS' });
    expect(history).to.have.length(2);
    expect(history[0]).to.deep.include({ time: '2025-06-02T10:01:00Z', result: 'Unhealthy', failedLayer: 'DNS' });
    expect(history[1]).to.deep.equal(entry(0));
  });

  it('does not mutate its input and drops undefined fields', () => {
    const original = [entry(0)];
    const history = appendHistory(original, { time: 't', result: 'Error', reason: undefined, failedLayer: undefined });
    expect(original).to.deep.equal([entry(0)]);
    expect(Object.keys(history[0])).to.deep.equal(['time', 'result']);
  });
});

describe('history: detectTransition', () => {
  const healthy = { result: 'Healthy' as const };
  const dnsFailure = { result: 'Unhealthy' as const, failedLayer: 'DNS', reason: 'NXDomain', summary: 'backend.prod.svc did not resolve.' };

  it('Healthy -> Unhealthy: a Warning with layer, reason and summary', () => {
    expect(detectTransition(healthy, dnsFailure)).to.deep.equal({
      type: 'Warning',
      reason: 'CheckUnhealthy',
      message: 'NetworkCheck is Unhealthy (DNS/NXDomain): backend.prod.svc did not resolve. (was Healthy)',
    });
  });

  it('Unhealthy -> Healthy: a Normal event naming what it recovered from', () => {
    expect(detectTransition(dnsFailure, healthy)).to.deep.equal({
      type: 'Normal',
      reason: 'CheckHealthy',
      message: 'NetworkCheck is Healthy (was Unhealthy (DNS/NXDomain))',
    });
  });

  it('Healthy -> Error and Error -> Healthy', () => {
    const error = { result: 'Error' as const, reason: 'ProbePodFailed' };
    expect(detectTransition(healthy, error)).to.deep.equal({
      type: 'Warning',
      reason: 'CheckError',
      message: 'NetworkCheck is Error (ProbePodFailed) (was Healthy)',
    });
    expect(detectTransition(error, healthy)?.reason).to.equal('CheckHealthy');
  });

  it('no event when nothing changed', () => {
    expect(detectTransition(healthy, healthy)).to.equal(undefined);
    expect(detectTransition(dnsFailure, { ...dnsFailure, summary: 'a different sentence' })).to.equal(undefined);
  });

  it('an event when the failure moves to another layer or reason, or between Unhealthy and Error', () => {
    const policy = { result: 'Unhealthy' as const, failedLayer: 'NetworkPolicy', reason: 'BlockedByNetworkPolicy' };
    expect(detectTransition(dnsFailure, policy)).to.include({ type: 'Warning', reason: 'CheckUnhealthy' });
    expect(detectTransition(dnsFailure, { ...dnsFailure, reason: 'ServFail' })).to.include({ reason: 'CheckUnhealthy' });
    expect(detectTransition(dnsFailure, { result: 'Error' })).to.include({ reason: 'CheckError' });
  });

  it('the first result is an event too', () => {
    expect(detectTransition(undefined, healthy)).to.deep.equal({
      type: 'Normal',
      reason: 'CheckHealthy',
      message: 'NetworkCheck is Healthy (first result)',
    });
    expect(detectTransition(undefined, { result: 'Unhealthy' })).to.deep.equal({
      type: 'Warning',
      reason: 'CheckUnhealthy',
      message: 'NetworkCheck is Unhealthy (first result)',
    });
  });

  it('keeps messages within the Event size limit', () => {
    const event = detectTransition(healthy, { ...dnsFailure, summary: 'x'.repeat(5000) });
    expect(event?.message).to.have.length(MAX_EVENT_MESSAGE_LENGTH);
    expect(event?.message.endsWith('...')).to.equal(true);
  });
});
