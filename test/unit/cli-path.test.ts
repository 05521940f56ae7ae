// The path the plugin draws, once per root cause of the catalogue (the first block of Cause in
// operator/diagnosis/reasons.ts): each status comes from the real reconciler and diagnosis on
// recorded probe evidence (test/support/cause-worlds.ts), is drawn without colour, and is compared
// with its snapshot in test/fixtures/cli-path/<Cause>.txt. The same status without status.path (what
// an older operator writes) is drawn from the condition messages and compared with
// test/fixtures/cli-path/from-messages/<Cause>.txt. Each test also checks that the marked hop is the
// one the cause is about. UPDATE_SNAPSHOTS=1 rewrites the snapshots (review the diff).
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderVerdict } from '../../cli/render/verdict.ts';
import { pathFromStatus } from '../../cli/path/from-status.ts';
import { hopLabel } from '../../cli/path/model.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { PLAIN, makeStyle } from '../../cli/style.ts';
import { Cause } from '../../operator/diagnosis/index.ts';
import { CAUSE_SCENARIOS, checkForCause } from '../support/cause-worlds.ts';

const SNAPSHOTS = new URL('../fixtures/cli-path/', import.meta.url);
const LEGACY_SNAPSHOTS = new URL('../fixtures/cli-path/from-messages/', import.meta.url);
const CATALOGUE = Object.values(Cause).slice(0, Object.values(Cause).indexOf(Cause.ProbeFailed) + 1);

/** Where the root cause must be marked: the label the marked hop starts with (undefined: a Healthy warning, nothing marked). */
const MARKED: Record<string, RegExp | undefined> = {
  NoEndpoints: /^Service shop\/backend/, SelectorMismatch: /^Service shop\/backend/, EndpointsNotReady: /^Service shop\/backend/,
  PortNotListening: /^pod backend-7d9f-abcde/, TargetPortMismatch: /^pod backend-7d9f-abcde/,
  DNSServerUnavailable: /^DNS backend/, DNSEgressBlockedByPolicy: /^DNS backend/, DNSSearchPathAmplification: undefined, NameNotFound: /^DNS billing-api/,
  BlockedByNetworkPolicy: /^pod backend-7d9f-/, PolicyNotEnforced: /^pod backend-7d9f-abcde/, EgressBlocked: /^pod shop\/web/,
  IPForwardingDisabled: /^kube-proxy/, ServiceProxyMissing: /^kube-proxy/, OverlayBroken: /^pod backend-7d9f-fghij/, OverlaySourceAddressMismatch: /^pod backend-7d9f-/,
  MTUMismatch: /^pod backend-7d9f-abcde/, LoadBalancerPending: undefined, IngressControllerUnavailable: /^shop\.example\.com/,
  SourceNotReady: /^pod shop\/web/, ProbeFailed: /^pod shop\/web/,
};

describe('kubectl netcheck: the path drawn for every root cause of the catalogue', () => {
  it('has a scenario and an expected hop for every catalogue cause', () => {
    expect(CATALOGUE).to.have.length(21);
    expect(Object.keys(CAUSE_SCENARIOS).sort()).to.deep.equal([...CATALOGUE].sort());
    expect(Object.keys(MARKED).sort()).to.deep.equal([...CATALOGUE].sort());
  });

  /** Draws the check, checks the marked hops against MARKED[cause] and the drawing against its snapshot. */
  const drawsAsSnapshot = (cause: string, check: NetworkCheck, snapshots: URL) => {
    const lines = renderVerdict(check, PLAIN);
    const text = `${lines.join('\n')}\n`;
    const marked = pathFromStatus(check).hops.filter((hop) => hop.rootCause);
    const expected = MARKED[cause];
    if (expected) {
      expect(marked.length, text).to.be.greaterThan(0);
      for (const hop of marked) expect(hopLabel(hop), text).to.match(expected);
      // The drawing marks the same hops, and prints the evidence under the first of them.
      const markedLines = lines.filter((line) => line.includes('◀ root cause'));
      expect(markedLines).to.have.length(marked.length);
      expect(lines[lines.indexOf(markedLines[0]) + 1] ?? '', text).to.match(/┆|ingress|egress/);
    } else {
      expect(check.status?.result).to.equal('Healthy');
      expect(marked, text).to.deep.equal([]);
      expect(text).to.match(/^! /m);
    }
    expect(text, 'plain output has no escapes').to.not.match(/\x1b\[/);
    const file = new URL(`${cause}.txt`, snapshots);
    if (process.env.UPDATE_SNAPSHOTS) writeFileSync(file, text);
    expect(existsSync(file), `no snapshot ${file.pathname}: run with UPDATE_SNAPSHOTS=1 and review it`).to.equal(true);
    expect(text).to.equal(readFileSync(file, 'utf8'));
  };

  for (const cause of CATALOGUE) {
    it(cause, async () => {
      const check = await checkForCause(cause);
      expect(check.status?.reason, check.status?.summary).to.equal(cause);
      expect(check.status?.path?.hops?.length, 'the operator wrote status.path').to.be.greaterThan(0);
      drawsAsSnapshot(cause, check, SNAPSHOTS);
    });

    it(`${cause}, from an operator without status.path: the same hops read from the condition messages`, async () => {
      const { path: _path, ...older } = (await checkForCause(cause)).status!;
      drawsAsSnapshot(cause, { ...(await checkForCause(cause)), status: older }, LEGACY_SNAPSHOTS);
    });
  }

  it('draws each vantage\'s path apart and says how many hops the operator left out of status.path', async () => {
    const check = await checkForCause(Cause.OverlaySourceAddressMismatch);
    const lines = renderVerdict({ ...check, status: { ...check.status, path: { ...check.status!.path, hopsOmitted: 12 } } }, PLAIN);
    const sources = lines.filter((line) => /^✓ pod shop\/web/.test(line));
    expect(sources.map((line) => line.split(/ {2,}/)[0])).to.deep.equal(['✓ pod shop/web', '✓ pod shop/web-7f9c-node3']);
    expect(lines[lines.indexOf(sources[1]) - 1], 'a blank line between the paths').to.equal('');
    expect(lines).to.include('… 12 more hops not kept in status.path');
  });

  it('colours only when asked: the same drawing with escapes, the same text without them', async () => {
    const check = await checkForCause(Cause.BlockedByNetworkPolicy);
    const coloured = renderVerdict(check, makeStyle(true)).join('\n');
    expect(coloured).to.match(/\x1b\[31m/);
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).to.equal(renderVerdict(check, PLAIN).join('\n'));
  });
});
