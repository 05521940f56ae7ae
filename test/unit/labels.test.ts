import { expect } from 'chai';
import type { V1LabelSelector } from '@kubernetes/client-node';
import {
  explainSelectorMatch,
  explainServiceSelector,
  formatLabelSelector,
  formatLabels,
  InvalidLabelSelectorError,
  isEmptySelector,
  matchesLabelSelector,
  matchesMapSelector,
  selectorRequirements,
} from '../../operator/diagnosis/labels.ts';
import { buildPod, matchExpression, matchExpressions, matchLabels } from '../support/builders.ts';

describe('label selectors', () => {
  interface MatchRow {
    readonly name: string;
    readonly selector: V1LabelSelector | null | undefined;
    readonly labels: Record<string, string> | undefined;
    readonly matches: boolean;
  }

  const rows: MatchRow[] = [
    { name: 'empty selector selects a pod with labels', selector: {}, labels: { app: 'web' }, matches: true },
    { name: 'empty selector selects a pod without labels', selector: {}, labels: undefined, matches: true },
    { name: 'selector with empty matchLabels and matchExpressions selects everything', selector: { matchLabels: {}, matchExpressions: [] }, labels: {}, matches: true },
    { name: 'null selector selects nothing', selector: null, labels: { app: 'web' }, matches: false },
    { name: 'undefined selector selects nothing', selector: undefined, labels: {}, matches: false },
    { name: 'matchLabels equal', selector: matchLabels({ app: 'web' }), labels: { app: 'web', tier: 'fe' }, matches: true },
    { name: 'matchLabels value differs', selector: matchLabels({ app: 'web' }), labels: { app: 'web2' }, matches: false },
    { name: 'matchLabels key absent', selector: matchLabels({ app: 'web' }), labels: { tier: 'fe' }, matches: false },
    { name: 'matchLabels are ANDed', selector: matchLabels({ app: 'web', tier: 'fe' }), labels: { app: 'web' }, matches: false },
    { name: 'matchLabels keys are case-sensitive', selector: matchLabels({ App: 'web' }), labels: { app: 'web' }, matches: false },
    { name: 'In matches one of the values', selector: matchExpressions(matchExpression('pod', 'In', ['b', 'c'])), labels: { pod: 'c' }, matches: true },
    { name: 'In fails on another value', selector: matchExpressions(matchExpression('pod', 'In', ['b', 'c'])), labels: { pod: 'a' }, matches: false },
    { name: 'In fails when the key is absent', selector: matchExpressions(matchExpression('pod', 'In', ['b'])), labels: {}, matches: false },
    { name: 'NotIn matches another value', selector: matchExpressions(matchExpression('ns', 'NotIn', ['x'])), labels: { ns: 'y' }, matches: true },
    { name: 'NotIn matches when the key is absent', selector: matchExpressions(matchExpression('ns', 'NotIn', ['x'])), labels: {}, matches: true },
    { name: 'NotIn fails on a listed value', selector: matchExpressions(matchExpression('ns', 'NotIn', ['x', 'z'])), labels: { ns: 'z' }, matches: false },
    { name: 'Exists matches any value, even empty', selector: matchExpressions(matchExpression('canary', 'Exists')), labels: { canary: '' }, matches: true },
    { name: 'Exists fails when absent', selector: matchExpressions(matchExpression('canary', 'Exists')), labels: { app: 'x' }, matches: false },
    { name: 'DoesNotExist matches when absent', selector: matchExpressions(matchExpression('canary', 'DoesNotExist')), labels: { app: 'x' }, matches: true },
    { name: 'DoesNotExist fails when present', selector: matchExpressions(matchExpression('canary', 'DoesNotExist')), labels: { canary: 'false' }, matches: false },
    {
      name: 'matchLabels AND matchExpressions both must hold',
      selector: { matchLabels: { app: 'web' }, matchExpressions: [matchExpression('env', 'In', ['prod'])] },
      labels: { app: 'web', env: 'dev' },
      matches: false,
    },
    {
      name: 'matchLabels AND matchExpressions both hold',
      selector: { matchLabels: { app: 'web' }, matchExpressions: [matchExpression('env', 'In', ['prod']), matchExpression('debug', 'DoesNotExist')] },
      labels: { app: 'web', env: 'prod' },
      matches: true,
    },
    { name: 'unknown operator selects nothing', selector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }, labels: { a: 'b' }, matches: false },
    { name: 'In without values selects nothing', selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, labels: { a: 'b' }, matches: false },
    { name: 'Exists with values selects nothing', selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['b'] }] }, labels: { a: 'b' }, matches: false },
  ];

  for (const row of rows) {
    it(`${row.name} -> ${row.matches ? 'match' : 'no match'}`, () => {
      expect(matchesLabelSelector(row.selector, row.labels)).to.equal(row.matches);
    });
  }

  it('rejects invalid selectors with a message naming the key', () => {
    expect(() => selectorRequirements({ matchExpressions: [{ key: 'tier', operator: 'Like', values: ['a'] }] }))
      .to.throw(InvalidLabelSelectorError, /Like.*tier/);
  });

  it('a Service-style map selector: empty selects nothing, otherwise equality', () => {
    expect(matchesMapSelector({}, { app: 'web' })).to.equal(false);
    expect(matchesMapSelector(undefined, { app: 'web' })).to.equal(false);
    expect(matchesMapSelector({ app: 'web' }, { app: 'web', x: 'y' })).to.equal(true);
    expect(matchesMapSelector({ app: 'web' }, { app: 'api' })).to.equal(false);
  });

  it('tells empty from null selectors', () => {
    expect(isEmptySelector({})).to.equal(true);
    expect(isEmptySelector({ matchLabels: {} })).to.equal(true);
    expect(isEmptySelector(null)).to.equal(false);
    expect(isEmptySelector(matchLabels({ a: 'b' }))).to.equal(false);
  });

  it('formats selectors the way kubectl does', () => {
    expect(formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [
      matchExpression('tier', 'In', ['api', 'db']),
      matchExpression('env', 'NotIn', ['dev']),
      matchExpression('zone', 'NotIn', ['a', 'b']),
      matchExpression('canary', 'DoesNotExist'),
      matchExpression('owner', 'Exists'),
    ] })).to.equal('app=web,tier in (api,db),env!=dev,zone notin (a,b),!canary,owner');
    expect(formatLabelSelector({})).to.equal('<everything>');
    expect(formatLabelSelector(undefined)).to.equal('<nothing>');
    expect(formatLabels({ a: '1', b: '2' })).to.equal('a=1,b=2');
    expect(formatLabels({})).to.equal('<none>');
  });
});

describe('explainSelectorMatch: naming the pods that nearly match', () => {
  const backendPods = [
    buildPod('backend-v2-7d9f', { namespace: 'shop', labels: { app: 'backend-v2', tier: 'api' } }),
    buildPod('frontend-5c4b', { namespace: 'shop', labels: { app: 'frontend', tier: 'web' } }),
    buildPod('redis-0', { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'redis' } }),
  ];

  it('names the pod whose app label differs by a suffix first, with both values', () => {
    const report = explainServiceSelector({ app: 'backend' }, backendPods);
    expect(report.matched).to.deep.equal([]);
    expect(report.nearMisses[0].name).to.equal('backend-v2-7d9f');
    expect(report.nearMisses[0].differences).to.have.length(1);
    expect(report.nearMisses[0].differences[0]).to.include({ key: 'app', kind: 'value-differs', wanted: 'app=backend', actual: 'backend-v2' });
    expect(report.message).to.equal(
      'selector app=backend matches none of 3 pods; nearest: backend-v2-7d9f (has app=backend-v2, selector wants app=backend), ' +
        'frontend-5c4b (has app=frontend, selector wants app=backend), redis-0 (label app is missing, selector wants app=backend)',
    );
  });

  it('ranks a pod failing one requirement before one failing two', () => {
    const pods = [
      buildPod('far', { labels: { app: 'other', tier: 'x' } }),
      buildPod('near', { labels: { app: 'other', tier: 'api' } }),
    ];
    const report = explainSelectorMatch(matchLabels({ app: 'backend', tier: 'api' }), pods);
    expect(report.nearMisses.map((miss) => miss.name)).to.deep.equal(['near', 'far']);
    expect(report.nearMisses[0].satisfied).to.equal(1);
    expect(report.nearMisses[1].differences.map((difference) => difference.key)).to.deep.equal(['app', 'tier']);
  });

  it('hints when the wanted value sits under another key', () => {
    const report = explainServiceSelector({ app: 'backend' }, [buildPod('backend-1', { labels: { name: 'backend' } })]);
    expect(report.nearMisses[0].differences[0].kind).to.equal('missing');
    expect(report.nearMisses[0].differences[0].hint).to.equal('the value backend is under label name instead');
  });

  it('hints at a key that differs only in case', () => {
    const report = explainServiceSelector({ app: 'backend' }, [buildPod('backend-1', { labels: { App: 'backend' } })]);
    expect(report.nearMisses[0].differences[0].hint).to.equal('label keys are case-sensitive: the pod has App=backend');
  });

  it('explains DoesNotExist and NotIn failures as unexpected labels', () => {
    const selector = matchExpressions(matchExpression('canary', 'DoesNotExist'), matchExpression('env', 'NotIn', ['dev']));
    const report = explainSelectorMatch(selector, [buildPod('web-canary', { labels: { canary: 'true', env: 'dev' } })]);
    expect(report.nearMisses[0].differences.map((difference) => [difference.kind, difference.description])).to.deep.equal([
      ['unexpected', 'has canary=true, selector wants !canary'],
      ['unexpected', 'has env=dev, selector wants env!=dev'],
    ]);
  });

  it('limits the near misses', () => {
    const pods = Array.from({ length: 6 }, (_, index) => buildPod(`p${index}`, { labels: { app: `x${index}` } }));
    expect(explainServiceSelector({ app: 'web' }, pods, { limit: 2 }).nearMisses).to.have.length(2);
  });

  it('lists the matches and no near misses when something matches', () => {
    const report = explainServiceSelector({ tier: 'api' }, backendPods);
    expect(report.matched).to.deep.equal(['backend-v2-7d9f']);
    expect(report.nearMisses).to.deep.equal([]);
    expect(report.message).to.equal('selector tier=api matches 1 of 3 pods: backend-v2-7d9f');
  });

  it('says so when there are no candidates at all', () => {
    const report = explainServiceSelector({ app: 'web' }, []);
    expect(report.message).to.equal('selector app=web matches no pods: there are no candidate pods');
  });

  it('a selector-less Service selects nothing and says endpoints are manual', () => {
    const report = explainServiceSelector(undefined, backendPods);
    expect(report.matched).to.deep.equal([]);
    expect(report.message).to.match(/no selector is set/);
  });
});
