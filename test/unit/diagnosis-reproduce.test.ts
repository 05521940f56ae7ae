// status.reproduce: kubectl commands a person pastes into a shell. Every value must reach the command
// as exactly ONE word, whatever it contains, and nothing in it may run. These tests parse the rendered
// lines back with a real bash and compare the words, and plant payloads that would leave a file
// behind if anything were executed.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { renderReproduce, shellJoin, shellQuote } from '../../operator/diagnosis/reproduce.ts';
import {
  WORLD,
  buildNetworkCheck,
  buildPod,
  clusterResolv,
  clusterWorld,
  connectResult,
  diagnosisInput,
  endpointsSection,
  fetchedOk,
  httpResult,
  mtuResult,
  probeDoc,
  probeOutput,
  simulateLookup,
  worldEvidence,
} from '../support/builders.ts';

/** The words bash sees for a command line, without running the command itself. */
function bashWords(line: string): string[] {
  const out = execFileSync('bash', ['-c', `words() { printf '%s\\0' "$@"; }; words ${line}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const HOSTILE = [
  "it's",
  'a b',
  '$(touch PWNED)',
  '`touch PWNED`',
  '; touch PWNED',
  '&& touch PWNED',
  '| touch PWNED',
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  '$HOME',
  '${IFS}',
  '*',
  '~root',
  'line1\nline2',
  '\\',
  '!!',
  '-rf',
  '',
  'ünïcødé',
  '#comment',
];

describe('diagnosis reproduce commands: shell quoting', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netcheck-quote-'));
    // Something for an unquoted * to expand to.
    writeFileSync(join(dir, 'glob-bait'), '');
  });

  /** Runs `words <line>` in the scratch directory and returns the words bash passed. */
  function wordsIn(line: string): string[] {
    return execFileSync('bash', ['-c', `cd "$1" && words() { printf '%s\\0' "$@"; } && words ${line}`, 'bash', dir], { encoding: 'utf8' }).split('\0').slice(0, -1);
  }

  it('the harness notices an unquoted payload (control)', () => {
    expect(wordsIn(['words-control', '$(touch PWNED)', '*'].join(' '))).to.deep.equal(['words-control', 'PWNED', 'glob-bait']);
    expect(existsSync(join(dir, 'PWNED'))).to.equal(true);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('kubectl')).to.equal('kubectl');
    expect(shellQuote('10.96.12.7')).to.equal('10.96.12.7');
    expect(shellQuote('--image=docker.io/nicolaka/netshoot:v0.14')).to.equal('--image=docker.io/nicolaka/netshoot:v0.14');
    expect(shellQuote('a b')).to.equal("'a b'");
    expect(shellQuote("it's")).to.equal("'it'\\''s'");
    expect(shellQuote('')).to.equal("''");
    expect(shellQuote('%{http_code}\\n')).to.equal("'%{http_code}\\n'");
  });

  for (const value of HOSTILE) {
    it(`keeps ${JSON.stringify(value)} one inert word`, () => {
      const argv = ['kubectl', '-n', value, 'debug', '-it', `pod/${value}`, '--', 'nc', '-vz', value];
      expect(wordsIn(shellJoin(argv))).to.deep.equal(argv);
      expect(existsSync(join(dir, 'PWNED')), 'a payload ran').to.equal(false);
    });
  }

  it('renders at most 10 unique commands of at most 2048 characters', () => {
    const long = ['kubectl', 'get', 'x'.repeat(3000)];
    const many = Array.from({ length: 15 }, (_, i) => ['kubectl', 'get', 'pod', `p${i}`]);
    const lines = renderReproduce([long, many[0], many[0], ...many]);
    expect(lines).to.have.length(10);
    expect(lines[0]).to.equal('kubectl get pod p0');
    expect(new Set(lines).size).to.equal(10);
    for (const line of lines) expect(line.length).to.be.at.most(2048);
  });
});

describe('diagnosis reproduce commands from hostile objects', () => {
  // Names the API server would refuse still must not break the commands: the operator quotes, it
  // does not rely on validation elsewhere.
  const hostileNamespace = "shop'; touch PWNED; echo '";
  const hostilePod = 'web$(touch PWNED)';
  const hostileLabel = 'v`touch PWNED`';

  function hostileVerdict(path: string) {
    const world = clusterWorld();
    world.web = buildPod(hostilePod, { namespace: hostileNamespace, labels: { app: hostileLabel }, ip: WORLD.sourceIP, nodeName: 'node-1' });
    const resolv = clusterResolv('shop');
    const dns = simulateLookup('backend', resolv, { 'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: [WORLD.clusterIP] } });
    const url = `http://backend:8080${path}`;
    const doc = probeDoc({
      proto: 'HTTP',
      target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 },
      resolv,
      dns,
      connect: connectResult(WORLD.clusterIP, 8080, 'ok'),
      http: httpResult(url, 'unexpectedStatus', 500),
      endpoints: endpointsSection([{ ip: WORLD.backendIPs[0], port: 8080, status: 'ok' }, { ip: WORLD.backendIPs[1], port: 8080, status: 'ok' }]),
      mtu: mtuResult(WORLD.backendIPs[0], 'ok'),
    });
    const check = buildNetworkCheck('web-to-backend', hostileNamespace, { source: { pod: hostilePod }, destination: { service: 'backend', namespace: 'shop', port: 8080 }, protocol: 'HTTP', http: { path } });
    const input = diagnosisInput(check, { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, [probeOutput(WORLD.probePod, 'node-1', doc)]);
    return diagnoseFromEvidence(worldEvidence(world, { sourcePods: fetchedOk([world.web]) }), input);
  }

  it('quotes namespace, pod name and URL (with $, quotes and ;) so bash sees them verbatim and runs nothing', () => {
    // The probe accepts RFC 3986 path characters, which include $ ( ) ' ; & and !.
    const path = "/a'b$(touch${IFS}PWNED);c&d=!e";
    const verdict = hostileVerdict(path);
    expect(verdict.reason).to.equal('UnexpectedHTTPStatus');
    const curl = verdict.reproduce.find((line) => line.includes('curl'));
    expect(curl, verdict.reproduce.join('\n')).to.be.a('string');
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-quote-'));
    try {
      const words = execFileSync('bash', ['-c', `cd "$1" && words() { printf '%s\\0' "$@"; } && words ${curl}`, 'bash', dir], { encoding: 'utf8' }).split('\0').slice(0, -1);
      expect(words.slice(0, 6)).to.deep.equal(['kubectl', '-n', hostileNamespace, 'debug', '-it', `pod/${hostilePod}`]);
      expect(words[words.length - 1]).to.equal(`http://backend:8080${path}`);
      expect(words).to.include('%{http_code} %{time_total}s\\n');
      expect(existsSync(join(dir, 'PWNED'))).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every rendered line parses back into words that contain the hostile values intact', () => {
    const verdict = hostileVerdict('/');
    for (const line of verdict.reproduce) {
      const words = bashWords(line);
      expect(words[0]).to.equal('kubectl');
      if (words.includes('-n') && words[words.indexOf('-n') + 1] !== 'shop' && words[words.indexOf('-n') + 1] !== 'kube-system') {
        expect(words[words.indexOf('-n') + 1]).to.equal(hostileNamespace);
      }
    }
  });

  it('never passes a value that looks like an option or a non-host to a network tool', () => {
    // A host destination is free text in the CRD (no pattern); the probe refuses such a name and the
    // diagnosis must not turn it into `dig -f/etc/shadow`.
    const world = clusterWorld();
    const hostile = '-f/etc/shadow';
    const check = buildNetworkCheck('odd', 'shop', { source: { pod: 'web' }, destination: { host: hostile, port: 443 } });
    const doc = probeDoc({ status: 'invalidInput', proto: 'TCP', target: {}, errors: [{ code: 'InvalidParameter', param: 'NETCHECK_HOST', msg: 'must be an IP address or a DNS name (RFC 1123, at most 253 characters)' }] });
    const input = diagnosisInput(check, { sourcePods: [world.web] }, [probeOutput(WORLD.probePod, 'node-1', doc)]);
    const verdict = diagnoseFromEvidence(worldEvidence(world), input);
    expect(verdict.result).to.equal('Error');
    expect(verdict.reason).to.equal('ProbeFailed');
    for (const line of verdict.reproduce) expect(bashWords(line)).to.not.include(hostile);
    expect(verdict.summary).to.include('NETCHECK_HOST');
  });
});
