// The local cluster's own NetworkPolicy enforcer (test/cluster/netpol) against the real ipset of a
// scratch network namespace: what rules.ts generates for ipBlocks must be accepted by the kernel, or
// `ipset restore` fails as a whole and the node applies no policy change at all (the 0.0.0.0/0 bug).
import { expect } from 'chai';
import { buildRuleset, ipsetRestoreScript } from '../cluster/netpol/rules.ts';
import { useLab, type NetnsLab } from '../support/netns.ts';

describe('netpol enforcer: ipBlock sets in a real ipset (netns)', function () {
  let lab: NetnsLab;
  useLab((newLab) => { lab = newLab; });

  const ruleset = (cidr: string) => buildRuleset({
    nodeName: 'node-a',
    pods: [{ metadata: { namespace: 'app', name: 'web', uid: 'u1' }, spec: { nodeName: 'node-a', containers: [] }, status: { phase: 'Running', podIP: '10.244.0.10' } }],
    namespaces: [{ metadata: { name: 'app' } }],
    policies: [{ metadata: { namespace: 'app', name: 'any' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr, except: ['192.0.2.0/24'] } }] }] } }],
    denyAction: 'REJECT',
  });

  it('loads 0.0.0.0/0 with an except, and matches both halves of the address space but not the except', async () => {
    const ns = await lab.addNamespace('ipset');
    const rules = ruleset('0.0.0.0/0');
    const restore = await ns.exec('ipset', ['restore'], { input: ipsetRestoreScript(rules) });
    expect(restore.code, restore.stderr).to.equal(0);
    const set = rules.ipsets[0].name;
    for (const address of ['10.1.2.3', '200.1.2.3']) {
      expect((await ns.exec('ipset', ['test', set, address])).code, `${address} in ${set}`).to.equal(0);
    }
    expect((await ns.exec('ipset', ['test', set, '192.0.2.9'])).code, 'the except is outside the set').to.not.equal(0);
  });

  it('the kernel itself refuses a /0 in hash:net (what the split works around)', async () => {
    const ns = await lab.addNamespace('ipset');
    const refused = await ns.exec('ipset', ['restore'], { input: 'create NCT-ZERO hash:net family inet\nadd NCT-ZERO 0.0.0.0/0\n' });
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.match(/CIDR|invalid|range/i);
  });
});
