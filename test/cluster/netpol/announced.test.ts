import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOUNCEMENT_TTL_MS, overlayAnnouncements, parseAnnouncement } from './announced.ts';

const pod = (name: string, podIP?: string): V1Pod => ({
  metadata: { namespace: 'team', name, labels: { app: name } },
  spec: { nodeName: 'netcheck-node-1', containers: [] },
  status: { phase: 'Pending', ...(podIP ? { podIP } : {}) },
});
const NOW = 1_000_000;

describe('CNI address announcements laid over the enforcer pod cache', () => {
  it('parses "<namespace>/<name>" and refuses anything else', () => {
    expect(parseAnnouncement('10.244.0.7', 'team/web\n', NOW)).to.deep.equal({ ip: '10.244.0.7', namespace: 'team', name: 'web', seenAt: NOW });
    expect(parseAnnouncement('10.244.0.7', 'web', NOW)).to.equal(undefined);
    expect(parseAnnouncement('10.244.0.7', 'a/b/c', NOW)).to.equal(undefined);
    expect(parseAnnouncement('.10.244.0.7.tmp', 'team/web', NOW)).to.equal(undefined);
  });

  it('gives a pod without a status address its announced one, and reports it programmed', () => {
    const announcement = parseAnnouncement('10.244.0.7', 'team/probe', NOW)!;
    const overlay = overlayAnnouncements([pod('web', '10.244.0.5'), pod('probe')], [announcement], NOW);
    expect(overlay.pods.map((p) => p.status?.podIP)).to.deep.equal(['10.244.0.5', '10.244.0.7']);
    expect(overlay.programmed).to.deep.equal([announcement]);
    expect(overlay.keep).to.deep.equal([announcement]);
    expect(overlay.notCached).to.deep.equal([]);
  });

  it('drops the announcement once the status carries the address, still acknowledging it', () => {
    const announcement = parseAnnouncement('10.244.0.7', 'team/probe', NOW)!;
    const overlay = overlayAnnouncements([pod('probe', '10.244.0.7')], [announcement], NOW);
    expect(overlay.programmed).to.deep.equal([announcement]);
    expect(overlay.keep).to.deep.equal([]);
  });

  it('keeps an announcement whose pod the watch has not delivered, without acknowledging it', () => {
    const announcement = parseAnnouncement('10.244.0.7', 'team/probe', NOW)!;
    const overlay = overlayAnnouncements([pod('web', '10.244.0.5')], [announcement], NOW);
    expect(overlay.programmed).to.deep.equal([]);
    expect(overlay.notCached).to.deep.equal([announcement]);
    expect(overlay.keep).to.deep.equal([announcement]);
  });

  it('ignores an address another cached pod holds, and forgets expired announcements', () => {
    const reused = parseAnnouncement('10.244.0.5', 'team/probe', NOW)!;
    const overlay = overlayAnnouncements([pod('web', '10.244.0.5'), pod('probe')], [reused], NOW);
    expect(overlay.pods[1].status?.podIP).to.equal(undefined);
    expect(overlay.programmed).to.deep.equal([]);
    const stale = parseAnnouncement('10.244.0.9', 'team/probe', NOW)!;
    const later = overlayAnnouncements([pod('probe')], [stale], NOW + ANNOUNCEMENT_TTL_MS + 1);
    expect(later.pods[0].status?.podIP).to.equal(undefined);
    expect(later.keep).to.deep.equal([]);
  });
});
