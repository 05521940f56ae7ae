// Unit tests of the NetworkPolicy translation (rules.ts). The e2e smoke suite checks the same rules
// against real packets; these pin down the semantics case by case.
import { expect } from 'chai';
import type { V1NetworkPolicy, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { FORWARD_CHAIN, INPUT_CHAIN, buildRuleset, hashNetEntries, ipsetRestoreScript, policyTypes, selectorMatches } from './rules.ts';
import type { RulesInput } from './rules.ts';

const NODE = 'node-a';

function pod(namespace: string, name: string, ip: string, labels: Record<string, string>, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { namespace, name, uid: `${namespace}-${name}`, labels },
    spec: { nodeName: NODE, containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], ...extra },
    status: { phase: 'Running', podIP: ip },
  };
}

function namespace(name: string, labels: Record<string, string> = {}): V1Namespace {
  return { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

function input(pods: V1Pod[], policies: V1NetworkPolicy[], extra: Partial<RulesInput> = {}): RulesInput {
  return { nodeName: NODE, pods, namespaces: [namespace('app'), namespace('other', { team: 'blue' })], policies, denyAction: 'REJECT', ...extra };
}

const backend = pod('app', 'backend', '10.244.0.10', { app: 'backend' });
const client = pod('app', 'client', '10.244.0.11', { role: 'client' });
const stranger = pod('other', 'stranger', '10.244.0.12', { role: 'client' });

const lines = (text: string) => text.split('\n');
const chainRules = (text: string, chainPrefix: string) => lines(text).filter((line) => line.startsWith(`-A ${chainPrefix}`));

describe('netpol rules: label selectors', () => {
  it('matches labels and every expression operator, and treats empty/missing selectors as all/none', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({}, labels)).to.equal(true);
    expect(selectorMatches(undefined, labels)).to.equal(false);
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).to.equal(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, labels)).to.equal(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).to.equal(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).to.equal(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }, labels)).to.equal(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels)).to.equal(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels)).to.equal(false);
  });

  it('defaults policyTypes to Ingress, plus Egress when egress rules are present', () => {
    expect(policyTypes({ spec: { podSelector: {} } })).to.deep.equal({ ingress: true, egress: false });
    expect(policyTypes({ spec: { podSelector: {}, egress: [] } })).to.deep.equal({ ingress: true, egress: true });
    expect(policyTypes({ spec: { podSelector: {}, policyTypes: ['Egress'] } })).to.deep.equal({ ingress: false, egress: true });
  });
});

describe('netpol rules: the ruleset', () => {
  it('isolates nothing without policies', () => {
    const ruleset = buildRuleset(input([backend, client], []));
    expect(ruleset.podChains).to.deep.equal([]);
    expect(chainRules(ruleset.filterTable, FORWARD_CHAIN)).to.have.length(1); // established/related only
    expect(ruleset.ipsets).to.deep.equal([]);
  });

  it('a default-deny ingress policy rejects everything but the node itself', () => {
    const deny: V1NetworkPolicy = { metadata: { namespace: 'app', name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'] } };
    const ruleset = buildRuleset(input([backend, client], [deny]));
    expect(ruleset.podChains).to.have.length(1);
    const [chain] = ruleset.podChains;
    expect(chain).to.match(/^NETCHECK-NP-IN-[0-9A-F]{10}$/);
    expect(ruleset.filterTable).to.include(`-A ${FORWARD_CHAIN} -d 10.244.0.10/32`);
    const rules = chainRules(ruleset.filterTable, chain);
    expect(rules[0]).to.include('--src-type LOCAL -j RETURN');
    expect(rules.at(-1)).to.match(/-j REJECT$/);
    expect(rules).to.have.length(2);
  });

  it('DROP instead of REJECT when asked', () => {
    const deny: V1NetworkPolicy = { metadata: { namespace: 'app', name: 'deny' }, spec: { podSelector: {} } };
    const ruleset = buildRuleset(input([backend], [deny], { denyAction: 'DROP' }));
    expect(chainRules(ruleset.filterTable, ruleset.podChains[0]).at(-1)).to.match(/-j DROP$/);
  });

  it('allows a podSelector peer on a named port resolved on the selected pod; peers in other namespaces stay out', () => {
    const allow: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'allow' },
      spec: { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ _from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] }] },
    };
    const ruleset = buildRuleset(input([backend, client, stranger], [allow]));
    expect(ruleset.ipsets).to.have.length(1);
    expect(ruleset.ipsets[0]).to.include({ type: 'hash:ip' });
    expect(ruleset.ipsets[0].entries).to.deep.equal(['10.244.0.11']); // not the stranger in namespace other
    const allowRule = chainRules(ruleset.filterTable, ruleset.podChains[0]).find((line) => line.endsWith('-j RETURN') && line.includes('match-set'));
    expect(allowRule).to.include(`--match-set ${ruleset.ipsets[0].name} src`).and.include('-p tcp -m tcp --dport 8080');
  });

  it('reads the raw watch form of ingress peers (`from`) as well as the client model form (`_from`)', () => {
    const raw = {
      metadata: { namespace: 'app', name: 'allow' },
      spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] },
    } as unknown as V1NetworkPolicy;
    const ruleset = buildRuleset(input([backend, client], [raw]));
    expect(ruleset.ipsets.map((set) => set.entries)).to.deep.include(['10.244.0.11']);
  });

  it('namespaceSelector peers select every pod of the matching namespaces; both selectors intersect', () => {
    const policy: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'from-blue' },
      spec: {
        podSelector: { matchLabels: { app: 'backend' } },
        ingress: [
          { _from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] },
          { _from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'nobody' } } }] },
        ],
      },
    };
    const ruleset = buildRuleset(input([backend, client, stranger], [policy]));
    expect(ruleset.ipsets.map((set) => set.entries)).to.deep.equal([['10.244.0.12']]);
  });

  it('an ipBlock becomes a hash:net set whose excepts are nomatch entries', () => {
    const policy: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'block' },
      spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.0.11/32'] } }] }] },
    };
    const ruleset = buildRuleset(input([backend], [policy]));
    expect(ruleset.ipsets).to.deep.equal([{ name: ruleset.ipsets[0].name, type: 'hash:net', entries: ['10.244.0.0/16', '10.244.0.11/32 nomatch'] }]);
  });

  it('an ipBlock of 0.0.0.0/0 becomes two /1 halves, which hash:net accepts (a /0 it refuses)', () => {
    const policy: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'everywhere' },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.96.0.0/12'] } }] }] },
    };
    const ruleset = buildRuleset(input([backend], [policy]));
    expect(ruleset.ipsets.map((set) => set.entries)).to.deep.equal([['0.0.0.0/1', '10.96.0.0/12 nomatch', '128.0.0.0/1']]);
    expect(ipsetRestoreScript(ruleset)).to.not.include('/0');
    expect(hashNetEntries('10.0.0.0/8')).to.deep.equal(['10.0.0.0/8']);
    expect(hashNetEntries('10.0.0.7')).to.deep.equal(['10.0.0.7']);
  });

  it('egress isolation checks the source in FORWARD (before ingress checks) and in INPUT', () => {
    const policy: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'egress' },
      spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] },
    };
    const deny: V1NetworkPolicy = { metadata: { namespace: 'app', name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'backend' } } } };
    const ruleset = buildRuleset(input([backend, client], [deny, policy]));
    const forward = chainRules(ruleset.filterTable, FORWARD_CHAIN);
    expect(forward[1]).to.include('-s 10.244.0.11/32').and.match(/-j NETCHECK-NP-OUT-/);
    expect(forward[2]).to.include('-d 10.244.0.10/32').and.match(/-j NETCHECK-NP-IN-/);
    expect(chainRules(ruleset.filterTable, INPUT_CHAIN)[1]).to.include('-s 10.244.0.11/32');
    const out = ruleset.podChains.find((chain) => chain.includes('-OUT-')) ?? '';
    expect(chainRules(ruleset.filterTable, out)[0]).to.include('-p udp -m udp --dport 53 -j RETURN');
  });

  it('an egress named port resolves on each destination pod', () => {
    const other = pod('app', 'other-backend', '10.244.0.20', { app: 'backend' }, { containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 9090 }] }] });
    const policy: V1NetworkPolicy = {
      metadata: { namespace: 'app', name: 'egress' },
      spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'backend' } } }], ports: [{ port: 'http' }] }] },
    };
    const ruleset = buildRuleset(input([backend, other, client], [policy]));
    const rules = chainRules(ruleset.filterTable, ruleset.podChains[0]).join('\n');
    expect(rules).to.include('--dport 8080').and.include('--dport 9090');
    expect(ruleset.ipsets.map((set) => set.entries).sort()).to.deep.equal([['10.244.0.10'], ['10.244.0.20']]);
  });

  it('only isolates running pod-network pods of this node, and deletes chains that are gone', () => {
    const elsewhere = { ...pod('app', 'far', '10.244.1.5', { app: 'backend' }), spec: { nodeName: 'node-b', containers: [] } };
    const hostPod = pod('app', 'host', '10.240.0.1', { app: 'backend' }, { hostNetwork: true });
    const done = { ...pod('app', 'done', '10.244.0.30', { app: 'backend' }), status: { phase: 'Succeeded', podIP: '10.244.0.30' } };
    const deny: V1NetworkPolicy = { metadata: { namespace: 'app', name: 'deny' }, spec: { podSelector: {} } };
    const ruleset = buildRuleset(input([elsewhere, hostPod, done], [deny], { existingPodChains: ['NETCHECK-NP-IN-0000000000'] }));
    expect(ruleset.podChains).to.deep.equal([]);
    expect(ruleset.filterTable).to.include(':NETCHECK-NP-IN-0000000000 - [0:0]').and.include('-X NETCHECK-NP-IN-0000000000');
  });
});
