// Hostile parameter values: the probe program must never execute any part of them, must refuse
// the malformed ones with a structured InvalidParameter error, and must pass the well-formed but
// shell-hostile ones (an HTTP path is allowed `;$()'`) to the tool as a literal argument.
import { expect } from 'chai';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NetnsLab,
  runProbe,
  runProbeProgram,
  useLab,
  type Netns,
} from '../support/netns.ts';
import { PROBE_ENV, PROBE_EXIT_CODES, PROBE_RESULT_MAX_BYTES, parseProbeResult, type ProbeResult } from '../../operator/probe/result.ts';

const HTTP_PORT = 8080;
const CONCURRENCY = 8;

/** Payloads that would each create a marker file if any shell ever evaluated them. */
function hostilePayloads(markerDir: string): string[] {
  const m = (n: number) => join(markerDir, `m${n}`);
  return [
    `x;touch ${m(1)}`,
    `$(touch ${m(2)})`,
    `\`touch ${m(3)}\``,
    `x\ntouch ${m(4)}`,
    `a.example\n$(touch ${m(5)})`,
    `'; touch ${m(6)}; '`,
    `"; touch ${m(7)}; "`,
    `x && touch ${m(8)} || touch ${m(8)}`,
    `x | touch ${m(9)}`,
    `$(touch\${IFS}${m(10)})`,
    `\${PATH:0:0}$(touch ${m(11)})`,
    `x > ${m(12)}`,
    `-oProxyCommand=touch ${m(13)}`,
    `--output=${m(14)}`,
    `+tcp @127.0.0.1 -f ${m(15)}`,
    `","v":2,"status":"done","x":"`,
    `$(touch ${m(16)})` + 'a'.repeat(4096),
    'a'.repeat(4096),
    `10.250.0.1:80 $(touch ${m(17)}):80`,
    `10.250.0.1:80\n10.250.0.2:80;touch ${m(18)}`,
  ];
}

/** Runs fn over items, at most `limit` at a time. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

function firstJsonLine(stdout: string): ProbeResult {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  expect(line, 'a JSON document on stdout').to.be.a('string');
  return JSON.parse(line!) as ProbeResult;
}

describe('probe program: shell injection (netns)', function () {
  let lab: NetnsLab;
  let ns: Netns;
  let markerDir: string;

  useLab(async (newLab) => {
    lab = newLab;
    ns = await lab.addNamespace('inj');
    ns.setResolvConf('nameserver 127.0.0.1\n');
    markerDir = lab.tempDir();
  });

  const baseEnv = (): Record<string, string> => ({
    NETCHECK_PROTOCOL: 'HTTP',
    NETCHECK_TARGET_IP: '127.0.0.1',
    NETCHECK_PORT: String(HTTP_PORT),
    NETCHECK_TIMEOUT: '1',
  });

  it('every parameter x every hostile payload: refused with InvalidParameter, nothing executed', async function () {
    this.timeout(180_000); // ~380 runs of the program: ~20-30 s on 2 busy cores
    const payloads = hostilePayloads(markerDir);
    const cases = Object.values(PROBE_ENV).flatMap((name) => payloads.map((payload) => ({ name, payload })));
    const outcomes = await mapLimit(cases, CONCURRENCY, async ({ name, payload }) => {
      const run = await runProbeProgram(ns, { ...baseEnv(), [name]: payload }, 30_000);
      return { name, payload, run };
    });
    expect(readdirSync(markerDir), 'marker files created by injected commands').to.deep.equal([]);
    for (const { name, payload, run } of outcomes) {
      const label = `${name}=${JSON.stringify(payload.slice(0, 60))}`;
      expect(run.exitCode, label).to.equal(PROBE_EXIT_CODES.invalidInput);
      expect(run.stderr, label).to.not.match(/command not found|syntax error|unexpected token/);
      let doc: ProbeResult;
      if (name === PROBE_ENV.resultFile) {
        // A refused result path is never written to; the document still goes to stdout.
        expect(run.resultText, label).to.equal('');
        doc = firstJsonLine(run.stdout);
      } else {
        const parsed = parseProbeResult(run.resultText);
        expect(parsed.ok, `${label}: ${parsed.ok ? '' : parsed.error}`).to.equal(true);
        doc = (parsed as { result: ProbeResult }).result;
      }
      expect(doc.status, label).to.equal('invalidInput');
      expect(doc.errors, label).to.deep.include({ code: 'InvalidParameter', param: name, msg: doc.errors.find((e) => e.param === name)?.msg });
      expect(doc.connect ?? doc.http ?? doc.dns, `${label}: no probe ran`).to.equal(undefined);
      expect(run.resultText.length, label).to.be.at.most(PROBE_RESULT_MAX_BYTES);
    }
    expect(outcomes.length).to.equal(Object.keys(PROBE_ENV).length * payloads.length);
  });

  it('all parameters hostile at once (4 KB each): one document under 4096 bytes naming every parameter', async () => {
    const env: Record<string, string> = {};
    for (const name of Object.values(PROBE_ENV)) {
      if (name !== PROBE_ENV.resultFile) env[name] = `$(touch ${join(markerDir, 'all')})` + 'x'.repeat(4096);
    }
    const { run, result } = await runProbe(ns, env);
    expect(readdirSync(markerDir)).to.deep.equal([]);
    expect(run.exitCode).to.equal(PROBE_EXIT_CODES.invalidInput);
    expect(Buffer.byteLength(run.resultText)).to.be.at.most(PROBE_RESULT_MAX_BYTES);
    const refused = result.errors.filter((e) => e.code === 'InvalidParameter').map((e) => e.param);
    const expected = Object.values(PROBE_ENV).filter((n) => n !== PROBE_ENV.resultFile);
    expect(refused).to.have.members(expected);
  });

  it('hostile values in NETCHECK_PARAMS_FILE are refused the same way; unknown keys are named', async () => {
    const paramsFile = join(lab.tempDir(), 'params.json');
    writeFileSync(paramsFile, JSON.stringify({
      NETCHECK_PROTOCOL: 'TCP',
      NETCHECK_HOST: `$(touch ${join(markerDir, 'p1')})`,
      NETCHECK_PORT: `80\n`, // a trailing newline must not slip through
      NETCHECK_ENDPOINTS: `\`touch ${join(markerDir, 'p2')}\``,
      [`NETCHECK_X;touch ${join(markerDir, 'p3')}`]: '1',
    }));
    const { run, result } = await runProbe(ns, { [PROBE_ENV.paramsFile]: paramsFile });
    expect(readdirSync(markerDir)).to.deep.equal([]);
    expect(run.exitCode).to.equal(PROBE_EXIT_CODES.invalidInput);
    const byParam = Object.fromEntries(result.errors.map((e) => [e.param, e.code]));
    expect(byParam).to.deep.include({
      NETCHECK_HOST: 'InvalidParameter',
      NETCHECK_PORT: 'InvalidParameter',
      NETCHECK_ENDPOINTS: 'InvalidParameter',
    });
    expect(result.errors.some((e) => e.code === 'UnknownParameter')).to.equal(true);
  });

  it('a valid params file works, and the environment wins over it', async () => {
    await ns.startTcpListener('127.0.0.1', HTTP_PORT);
    const paramsFile = join(lab.tempDir(), 'params.json');
    writeFileSync(paramsFile, JSON.stringify({ NETCHECK_PROTOCOL: 'TCP', NETCHECK_TARGET_IP: '127.0.0.1', NETCHECK_PORT: 1, NETCHECK_TIMEOUT: 2 }));
    const { run, result } = await runProbe(ns, { [PROBE_ENV.paramsFile]: paramsFile, NETCHECK_PORT: String(HTTP_PORT) });
    expect(run.exitCode).to.equal(PROBE_EXIT_CODES.ok);
    expect(result.connect).to.deep.include({ status: 'ok', port: HTTP_PORT });
  });

  it('format boundaries: every address or name the program accepts yields a document the operator accepts', async () => {
    // The namespace has only loopback: accepted destinations fail locally, nothing leaves.
    const label63 = 'a'.repeat(63);
    const name253 = [label63, label63, label63, 'b'.repeat(61)].join('.');
    const addresses = ['::1', '::', 'fd00:250:2::2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2', '::ffff:10.1.2.3',
      '1::2::3', ':1::2', 'fe80::1%eth0', '12345::1', '1:2:3:4:5:6:1.2.3.4', '10.250.0.1', '10.250.0.256', '010.1.1.1', '1.2.3'];
    const names = ['web', 'web.default.svc.cluster.local', 'web.', '_http._tcp.web', name253, `${name253}.`, `${name253}x`,
      `${label63}a.test`, '-web', 'web-', 'we b', 'web..test', '1.2.3.4.5'];
    const runs = await mapLimit(
      [...addresses.map((v) => ({ NETCHECK_TARGET_IP: v })), ...names.map((v) => ({ NETCHECK_HOST: v }))],
      CONCURRENCY,
      (param) => runProbeProgram(ns, { NETCHECK_PROTOCOL: 'TCP', NETCHECK_PORT: '80', NETCHECK_TIMEOUT: '1', ...param }, 30_000),
    );
    const accepted: string[] = [];
    runs.forEach((run, i) => {
      const value = i < addresses.length ? addresses[i] : names[i - addresses.length];
      const parsed = parseProbeResult(run.resultText);
      expect(parsed.ok, `${JSON.stringify(value)}: ${parsed.ok ? '' : parsed.error}`).to.equal(true);
      const doc = (parsed as { result: ProbeResult }).result;
      if (run.exitCode === PROBE_EXIT_CODES.ok) accepted.push(value);
      else expect(doc.status, JSON.stringify(value)).to.equal('invalidInput');
    });
    expect(accepted).to.have.members(['::1', '::', 'fd00:250:2::2', '1:2:3:4:5:6:7:8', '::ffff:10.1.2.3', '1:2:3:4:5:6:1.2.3.4',
      '10.250.0.1', 'web', 'web.default.svc.cluster.local', 'web.', '_http._tcp.web', name253, `${name253}.`, '1.2.3.4.5']);
  });

  it('an HTTP path that is valid but shell-hostile reaches the server literally and executes nothing', async () => {
    const server = await ns.startHttpServer('127.0.0.1', HTTP_PORT, 200);
    // Only RFC 3986 characters: accepted. In a shell, $(...) with $IFS would run touch.
    const path = `/x;$(touch$IFS${join(markerDir, 'path')});'a'&b=$HOME`;
    const { run, result } = await runProbe(ns, { ...baseEnv(), NETCHECK_HTTP_PATH: path });
    expect(run.exitCode).to.equal(PROBE_EXIT_CODES.ok);
    expect(result.http).to.deep.include({ status: 'ok', code: 200 });
    expect(server.output).to.include(`request GET ${JSON.stringify(path)}`);
    expect(readdirSync(markerDir)).to.deep.equal([]);
  });
});
