// The plugin's command line: the from/to syntax, the flags, and bad input rejected with exit 2 and a
// message that names the flag. Drives the real commander program (main()) with the commands
// replaced by recorders: parsing is pure, what a command then does is the e2e tier's business.
import { expect } from 'chai';
import { buildSpec } from '../../cli/adhoc.ts';
import { ExitCode } from '../../cli/errors.ts';
import type { Io } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { joinSelectorArguments } from '../../cli/program.ts';
import { PLAIN, colorWanted } from '../../cli/style.ts';
import { parseDestination, parseSource } from '../../cli/target.ts';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { style: PLAIN, stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), raw: (d) => stdout.push(Buffer.from(d).toString()), now: () => new Date('2026-11-21T08:10:00Z') };
}

/** Parses argv with the real program; no cluster is needed because the first error stops it before the API. */
async function parse(argv: string[]) {
  const io = capture();
  const code = await main(argv, io);
  return { code, err: io.stderr.join('\n'), out: io.stdout.join('\n') };
}

describe('kubectl netcheck: command line', () => {
  describe('--from', () => {
    const cases: [string, unknown][] = [
      ['pod/web', { pod: 'web' }],
      ['deploy/web', { workload: { kind: 'Deployment', name: 'web' } }],
      ['sts/db', { workload: { kind: 'StatefulSet', name: 'db' } }],
      ['ds/agent', { workload: { kind: 'DaemonSet', name: 'agent' } }],
      ['node/worker-1', { node: 'worker-1' }],
      ['new:app=web,tier=front', { newPod: { labels: { app: 'web', tier: 'front' } } }],
      ['-l app=web', { podSelector: { matchLabels: { app: 'web' } } }],
    ];
    for (const [text, source] of cases) it(`${text}`, () => expect(parseSource(text)).to.deep.equal(source));
  });

  describe('--to', () => {
    const cases: [string, unknown][] = [
      ['svc/backend:8080', { service: 'backend', port: 8080 }],
      ['svc/backend:http', { service: 'backend', port: 'http' }],
      ['svc/backend', { service: 'backend' }],
      ['svc/backend.other:80', { service: 'backend', namespace: 'other', port: 80 }],
      ['pod/db-0:5432', { pod: 'db-0', port: 5432 }],
      ['example.com:443', { host: 'example.com', port: 443 }],
      ['10.0.0.1', { host: '10.0.0.1' }],
      ['[fd00::1]:53', { host: 'fd00::1', port: 53 }],
    ];
    for (const [text, destination] of cases) it(`${text}`, () => expect(parseDestination(text)).to.deep.equal(destination));
  });

  it('defaults the protocol from the destination: TCP with a port, HTTP with --path, ICMP for a bare IP', () => {
    expect(buildSpec({ source: { pod: 'web' }, destination: { service: 'b', port: 80 } }).protocol).to.equal('TCP');
    expect(buildSpec({ source: { pod: 'web' }, destination: { service: 'b' }, path: '/healthz' })).to.include({ protocol: 'HTTP' }).and.deep.include({ http: { path: '/healthz' } });
    expect(buildSpec({ source: { pod: 'web' }, destination: { host: '10.0.0.1' } }).protocol).to.equal('ICMP');
  });

  it('joins `--from -l app=web` into one value', () => {
    expect(joinSelectorArguments(['run', '--from', '-l', 'app=web', '--to', 'svc/b:80'])).to.deep.equal(['run', '--from', '-l app=web', '--to', 'svc/b:80']);
  });

  describe('bad input: exit 2 and the flag named', () => {
    const bad: [string, string[], RegExp][] = [
      ['an unknown source kind', ['run', '--from', 'pox/web', '--to', 'svc/b:80'], /--from <source>.*unknown source kind "pox"/],
      ['a source without a kind', ['run', '--from', 'web', '--to', 'svc/b:80'], /--from <source>.*is not a source/],
      ['a bad label', ['run', '--from', 'new:app', '--to', 'svc/b:80'], /--from <source>.*"app" is not a label/],
      ['no --from', ['run', '--to', 'svc/b:80'], /--from: required/],
      ['no --to', ['run', '--from', 'pod/web'], /required option '--to <destination>'/],
      ['a port out of range', ['run', '--from', 'pod/web', '--to', 'svc/b:70000'], /--to <destination>.*port 70000 is out of range/],
      ['a pod without a port', ['run', '--from', 'pod/web', '--to', 'pod/db'], /--to <destination>.*needs a port/],
      ['a Service without a port over TCP', ['run', '--from', 'pod/web', '--to', 'svc/b', '--protocol', 'tcp'], /--to: protocol TCP needs a port/],
      ['a port with ICMP', ['run', '--from', 'pod/web', '--to', '10.0.0.1:80', '--protocol', 'ICMP'], /--to: protocol ICMP takes no port/],
      ['an unknown protocol', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--protocol', 'SCTP'], /--protocol <protocol>.*"SCTP" is not a protocol/],
      ['a bad duration', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--timeout', '5x'], /--timeout <duration>.*"5x" is not a duration/],
      ['a timeout over 60 s', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--timeout', '2m'], /--timeout <duration>.*out of range/],
      ['a fractional timeout', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--timeout', '1500ms'], /--timeout <duration>.*whole number of seconds/],
      ['a bad expectation', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--expect', 'maybe'], /--expect <expectation>.*"maybe"/],
      ['--path with TCP', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--protocol', 'TCP', '--path', '/x'], /--path: only with protocol HTTP or HTTPS/],
      ['--path without a slash', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--path', 'x'], /--path: "x" must start with \//],
      ['expect blocked from a node', ['run', '--from', 'node/n1', '--to', '10.0.0.1:80', '--expect', 'blocked'], /--expect: blocked asserts a NetworkPolicy/],
      ['both --from and -l', ['run', '--from', 'pod/web', '-l', 'app=web', '--to', 'svc/b:80'], /option '-l, --selector <labels>' cannot be used with option '--from <source>'/],
      ['an unknown option', ['run', '--from', 'pod/web', '--to', 'svc/b:80', '--tiemout', '5s'], /unknown option '--tiemout'/],
      ['an unknown report format', ['test', '-f', 'suite.yaml', '-o', 'xml'], /option '-o, --output <format>' argument 'xml' is invalid/],
      ['test without -f', ['test'], /required option '-f, --filename <file>'/],
      ['a missing context', ['get', '--kubeconfig', '/nonexistent/kubeconfig'], /--kubeconfig: cannot load the kubeconfig/],
    ];
    for (const [name, argv, message] of bad) {
      it(name, async () => {
        const { code, err } = await parse(argv);
        expect(code, err).to.equal(ExitCode.Error);
        expect(err).to.match(message);
      });
    }
  });

  it('--help and --version exit 0', async () => {
    expect((await parse(['--help'])).code).to.equal(0);
    const version = await parse(['--version']);
    expect(version.code).to.equal(0);
    expect(version.out).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('colour only on a terminal, never with NO_COLOR, --no-color or TERM=dumb', () => {
    expect(colorWanted({ isTTY: true, env: {}, noColorFlag: false })).to.equal(true);
    expect(colorWanted({ isTTY: false, env: {}, noColorFlag: false })).to.equal(false);
    expect(colorWanted({ isTTY: false, env: { FORCE_COLOR: '1', CI: 'true' }, noColorFlag: false }), 'piped stays plain in CI').to.equal(false);
    expect(colorWanted({ isTTY: true, env: { NO_COLOR: '1' }, noColorFlag: false })).to.equal(false);
    expect(colorWanted({ isTTY: true, env: {}, noColorFlag: true })).to.equal(false);
    expect(colorWanted({ isTTY: true, env: { TERM: 'dumb' }, noColorFlag: false })).to.equal(false);
  });
});
