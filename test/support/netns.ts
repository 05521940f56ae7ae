// Build and tear down real network topologies in Linux network namespaces, for tests that need real
// packets and real faults (iptables DROP/REJECT, lowered MTU, ip_forward=0, dead DNS servers, ...).
//
// Needs root, iproute2 and iptables; dnsmasq and openssl for the helpers that start them.
//
//   const lab = new NetnsLab();                    // one per test: unique names, one cleanup
//   try {
//     const { client, router, server } = await buildRoutedTopology(lab);
//     await server.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
//     const res = await client.exec('curl', ['-m', '2', 'http://10.250.2.2/']);
//   } finally {
//     await lab.cleanup();                          // kills started processes, deletes namespaces
//   }
//
// Rules this library keeps, so tests stay inside the machine and never collide:
//  - Every namespace is named `nct-<pid>-<n>-<role>`: tests of parallel runs never share names, and
//    sweepStaleNamespaces() can remove leftovers of a crashed run (its pid is gone) and nothing else.
//  - Links are created directly inside namespaces (`ip link add ... netns X`): the host's own
//    namespace never gets an interface, address or route. Use private addresses (10.250.x.x,
//    198.18.x.x); they only exist inside the lab's namespaces.
//  - Commands run with argument arrays (child_process.spawn, no shell), so nothing is re-parsed.
//  - cleanup() is idempotent; a process 'exit' hook cleans labs a test forgot (or could not) clean.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProbeResult, type ProbeResult } from '../../operator/probe/result.ts';

export const NETNS_PREFIX = 'nct-';
const NETNS_RUN_DIR = '/var/run/netns';
/** `ip netns exec` bind-mounts files from /etc/netns/<name>/ over /etc/ (resolv.conf, hosts). */
const NETNS_ETC_DIR = '/etc/netns';

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** True when the command was killed for running past timeoutMs. */
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** The complete environment of the command (nothing is inherited when given). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
}

export class CommandError extends Error {
  readonly result: ExecResult;
  constructor(command: string[], result: ExecResult) {
    super(`command failed (${result.timedOut ? 'timed out' : `exit ${result.code ?? result.signal}`}): ${command.join(' ')}\n${result.stderr.trim()}`);
    this.result = result;
  }
}

/** Runs a command (no shell) and collects its output. Never rejects for a non-zero exit. */
export function execCommand(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code,
        signal,
        durationMs: Date.now() - started,
        timedOut,
      });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and throws CommandError unless it exits 0. Returns stdout. */
export async function runCommand(command: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  const result = await execCommand(command, args, options);
  if (result.code !== 0) throw new CommandError([command, ...args], result);
  return result.stdout;
}

/** A long-running process started in a namespace (a server, dnsmasq, ...). */
export class BackgroundProcess {
  readonly name: string;
  readonly child: ChildProcess;
  #output = '';
  #exited: Promise<void>;
  #exitCode: number | null | undefined;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    this.#exited = new Promise((resolvePromise) => {
      child.on('exit', (code) => {
        this.#exitCode = code;
        resolvePromise();
      });
      child.on('error', () => {
        this.#exitCode = null;
        resolvePromise();
      });
    });
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Resolves once the output matches pattern; rejects if the process exits or time runs out first. */
  async waitFor(pattern: RegExp, timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.#output)) {
      if (!this.running) throw new Error(`${this.name} exited (${this.#exitCode}) before printing ${pattern}:\n${this.#output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.#output}`);
      await sleep(20);
    }
  }

  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    const killed = await Promise.race([this.#exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!killed) {
      this.child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** One network namespace of a lab. All methods run `ip netns exec <name> ...` or `ip -n <name> ...`. */
export class Netns {
  readonly name: string;
  readonly lab: NetnsLab;

  constructor(lab: NetnsLab, name: string) {
    this.lab = lab;
    this.name = name;
  }

  /** Runs a command inside the namespace. Never rejects for a non-zero exit (see ExecResult.code). */
  exec(command: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return execCommand('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** Runs a command inside the namespace; throws unless it exits 0. Returns stdout. */
  run(command: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<string> {
    return runCommand('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** `ip -n <ns> <args>`: iproute2 commands in the namespace. */
  ip(args: readonly string[]): Promise<string> {
    return runCommand('ip', ['-n', this.name, ...args]);
  }

  /** Adds an address. IPv6 addresses are added with nodad, so they are usable at once. */
  async addAddress(ifname: string, cidr: string): Promise<void> {
    await this.ip(['addr', 'add', cidr, 'dev', ifname, ...(cidr.includes(':') ? ['nodad'] : [])]);
  }

  async linkUp(ifname: string): Promise<void> {
    await this.ip(['link', 'set', 'dev', ifname, 'up']);
  }

  async setMtu(ifname: string, mtu: number): Promise<void> {
    await this.ip(['link', 'set', 'dev', ifname, 'mtu', String(mtu)]);
  }

  /** Adds a route; `via` a gateway and/or `dev` an interface. dest may be "default". */
  async addRoute(dest: string, opts: { via?: string; dev?: string }): Promise<void> {
    const args = ['route', 'add', dest];
    if (opts.via) args.push('via', opts.via);
    if (opts.dev) args.push('dev', opts.dev);
    await this.ip(args);
  }

  async deleteRoute(dest: string): Promise<void> {
    await this.ip(['route', 'del', dest]);
  }

  /** Sets a sysctl inside the namespace, e.g. sysctl('net.ipv4.ip_forward', '0'). */
  async sysctl(key: string, value: string): Promise<void> {
    await this.run('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  async readSysctl(key: string): Promise<string> {
    return (await this.run('sysctl', ['-n', key])).trim();
  }

  /** `iptables -w <args>` in the namespace (its own, empty ruleset). */
  async iptables(args: readonly string[]): Promise<void> {
    await this.run('iptables', ['-w', ...args]);
  }

  /**
   * Gives the namespace its own /etc/resolv.conf: `ip netns exec` bind-mounts
   * /etc/netns/<name>/resolv.conf over /etc/resolv.conf for every command it runs.
   */
  setResolvConf(content: string): void {
    const dir = join(NETNS_ETC_DIR, this.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolv.conf'), content);
  }

  /**
   * Starts a long-running command in the namespace. With readyPattern, resolves only once the
   * command printed it (on stdout or stderr). The lab stops the process at cleanup.
   */
  async spawn(command: string, args: readonly string[], opts: { readyPattern?: RegExp; readyTimeoutMs?: number; env?: Record<string, string> } = {}): Promise<BackgroundProcess> {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const proc = new BackgroundProcess(`${command}@${this.name}`, child);
    this.lab.track(proc);
    if (opts.readyPattern) await proc.waitFor(opts.readyPattern, opts.readyTimeoutMs);
    return proc;
  }

  /**
   * Runs a Node.js program (source text) in the namespace; it should print `ready` once listening.
   * Its arguments are process.argv.slice(1).
   */
  startNodeProgram(source: string, args: readonly string[] = [], readyPattern = /^ready$/m): Promise<BackgroundProcess> {
    return this.spawn(process.execPath, ['--input-type=module', '-e', source, '--', ...args], { readyPattern });
  }

  /** A TCP server that accepts connections and closes them. */
  startTcpListener(address: string, port: number): Promise<BackgroundProcess> {
    return this.startNodeProgram(TCP_LISTENER_PROGRAM, [address, String(port)]);
  }

  /** A UDP server that sends every datagram back to its sender. */
  startUdpEcho(address: string, port: number): Promise<BackgroundProcess> {
    return this.startNodeProgram(UDP_ECHO_PROGRAM, [address, String(port)]);
  }

  /**
   * An HTTP server answering every request with `status`, or HTTPS when tls (PEM cert and key) is
   * given. Every request line is printed as `request <method> <url>` (see BackgroundProcess.output).
   */
  startHttpServer(address: string, port: number, status: number, tls?: { certFile: string; keyFile: string }): Promise<BackgroundProcess> {
    const args = [address, String(port), String(status)];
    if (tls) args.push(tls.certFile, tls.keyFile);
    return this.startNodeProgram(HTTP_SERVER_PROGRAM, args);
  }

  /** A DNS server answering every query with the given rcode (2 = SERVFAIL, 5 = REFUSED) and no records. */
  startDnsRcodeResponder(address: string, port: number, rcode: number): Promise<BackgroundProcess> {
    return this.startNodeProgram(DNS_RCODE_PROGRAM, [address, String(port), String(rcode)]);
  }

  /**
   * dnsmasq as a DNS server only (no DHCP, no /etc/hosts, no upstream from resolv.conf) on
   * listen:port. Typical extra args: `--local=/zone.test/` (authoritative: unknown names are
   * NXDOMAIN), `--address=/name.zone.test/10.250.2.2`, `--server=/other.test/10.250.2.3#5353`.
   */
  startDnsmasq(listen: string, extraArgs: readonly string[], port = 53): Promise<BackgroundProcess> {
    return this.spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--pid-file=',
        '--bind-interfaces',
        `--listen-address=${listen}`,
        `--port=${port}`,
        '--log-queries',
        '--log-facility=-',
        ...extraArgs,
      ],
      { readyPattern: /started, version/ },
    );
  }
}

let labCounter = 0;
const liveLabs = new Set<NetnsLab>();
let exitHookInstalled = false;

/** A set of namespaces and processes created by one test, removed together by cleanup(). */
export class NetnsLab {
  readonly id: string;
  #namespaces: Netns[] = [];
  #processes: BackgroundProcess[] = [];
  #tempDirs: string[] = [];

  constructor() {
    labCounter += 1;
    this.id = `${NETNS_PREFIX}${process.pid}-${labCounter}`;
    liveLabs.add(this);
    installExitHook();
  }

  /** Creates the namespace `<lab id>-<role>` with loopback up. */
  async addNamespace(role: string): Promise<Netns> {
    if (!/^[a-z0-9]{1,12}$/.test(role)) throw new Error(`namespace role must be [a-z0-9]{1,12}: ${role}`);
    const ns = new Netns(this, `${this.id}-${role}`);
    await runCommand('ip', ['netns', 'add', ns.name]);
    this.#namespaces.push(ns);
    await ns.linkUp('lo');
    return ns;
  }

  /**
   * Connects two namespaces with a veth pair (ifA in a, ifB in b), both ends up, with optional
   * addresses (CIDR) and MTU.
   */
  async connect(
    a: Netns,
    ifA: string,
    b: Netns,
    ifB: string,
    opts: { addressA?: string; addressB?: string; mtu?: number } = {},
  ): Promise<void> {
    await runCommand('ip', ['link', 'add', ifA, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
    for (const [ns, ifname, address] of [[a, ifA, opts.addressA], [b, ifB, opts.addressB]] as const) {
      if (opts.mtu) await ns.setMtu(ifname, opts.mtu);
      if (address) await ns.addAddress(ifname, address);
      await ns.linkUp(ifname);
    }
  }

  /** A temporary directory removed at cleanup. */
  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
    this.#tempDirs.push(dir);
    return dir;
  }

  /** @internal Registers a process for cleanup (used by Netns.spawn). */
  track(proc: BackgroundProcess): void {
    this.#processes.push(proc);
  }

  /** Stops every process, deletes every namespace and its /etc/netns files. Idempotent. */
  async cleanup(): Promise<void> {
    const processes = this.#processes.splice(0);
    await Promise.all(processes.map((proc) => proc.stop()));
    for (const ns of this.#namespaces.splice(0)) {
      await execCommand('ip', ['netns', 'del', ns.name]);
      rmSync(join(NETNS_ETC_DIR, ns.name), { recursive: true, force: true });
    }
    for (const dir of this.#tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    liveLabs.delete(this);
  }

  /** Synchronous last-resort cleanup for the process 'exit' hook. */
  cleanupSync(): void {
    for (const proc of this.#processes.splice(0)) {
      if (proc.running) proc.child.kill('SIGKILL');
    }
    for (const ns of this.#namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(join(NETNS_ETC_DIR, ns.name), { recursive: true, force: true });
    }
    for (const dir of this.#tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    liveLabs.delete(this);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lab of [...liveLabs]) lab.cleanupSync();
  });
}

/**
 * Deletes `nct-<pid>-...` namespaces whose creating process no longer exists (left by a run that
 * was killed). Namespaces of live processes, and any not following the naming scheme, are kept.
 * Returns the names removed.
 */
export function sweepStaleNamespaces(): string[] {
  if (!existsSync(NETNS_RUN_DIR)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(NETNS_RUN_DIR)) {
    const match = /^nct-(\d+)-\d+-[a-z0-9]+$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processExists(pid)) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      rmSync(join(NETNS_ETC_DIR, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // in use or already gone
    }
  }
  return removed;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Names of the namespaces that currently exist with this lab's id (for leak assertions). */
export function listNamespaces(prefix: string): string[] {
  if (!existsSync(NETNS_RUN_DIR)) return [];
  return readdirSync(NETNS_RUN_DIR).filter((name) => name.startsWith(prefix));
}

// ---------------------------------------------------------------------------------------------
// Ready-made topology.

export interface RoutedTopology {
  client: Netns;
  router: Netns;
  server: Netns;
  /** client eth0 10.250.1.2/24, default via the router's 10.250.1.1 (router interface r0). */
  clientIp: string;
  routerClientSideIp: string;
  /** server eth0 10.250.2.2/24, default via the router's 10.250.2.1 (router interface r1). */
  serverIp: string;
  routerServerSideIp: string;
  /** With { ipv6: true }: the same layout in fd00:250:1::/64 and fd00:250:2::/64 (ULA, private). */
  clientIp6: string;
  routerClientSideIp6: string;
  routerServerSideIp6: string;
  serverIp6: string;
}

export const ROUTED_TOPOLOGY = {
  clientIp: '10.250.1.2',
  routerClientSideIp: '10.250.1.1',
  routerServerSideIp: '10.250.2.1',
  serverIp: '10.250.2.2',
  clientIp6: 'fd00:250:1::2',
  routerClientSideIp6: 'fd00:250:1::1',
  routerServerSideIp6: 'fd00:250:2::1',
  serverIp6: 'fd00:250:2::2',
} as const;

/**
 * client --(eth0 | r0)-- router --(r1 | eth0)-- server, two /24s, the router forwarding
 * (ip_forward=1). Interfaces: client eth0, router r0 (client side) and r1 (server side), server eth0.
 * With { ipv6: true } the links also get IPv6 addresses and routes and the router forwards IPv6.
 */
export async function buildRoutedTopology(lab: NetnsLab, opts: { ipv6?: boolean } = {}): Promise<RoutedTopology> {
  const t = ROUTED_TOPOLOGY;
  const client = await lab.addNamespace('cli');
  const router = await lab.addNamespace('rtr');
  const server = await lab.addNamespace('srv');
  if (opts.ipv6) {
    // No duplicate address detection: link-local addresses are usable at once (DAD would hold
    // neighbour discovery, and so the first packets, for about a second).
    for (const ns of [client, router, server]) await ns.sysctl('net.ipv6.conf.default.accept_dad', '0');
  }
  await lab.connect(client, 'eth0', router, 'r0', { addressA: `${t.clientIp}/24`, addressB: `${t.routerClientSideIp}/24` });
  await lab.connect(router, 'r1', server, 'eth0', { addressA: `${t.routerServerSideIp}/24`, addressB: `${t.serverIp}/24` });
  await client.addRoute('default', { via: t.routerClientSideIp });
  await server.addRoute('default', { via: t.routerServerSideIp });
  await router.sysctl('net.ipv4.ip_forward', '1');
  if (opts.ipv6) {
    await client.addAddress('eth0', `${t.clientIp6}/64`);
    await router.addAddress('r0', `${t.routerClientSideIp6}/64`);
    await router.addAddress('r1', `${t.routerServerSideIp6}/64`);
    await server.addAddress('eth0', `${t.serverIp6}/64`);
    await client.ip(['-6', 'route', 'add', 'default', 'via', t.routerClientSideIp6]);
    await server.ip(['-6', 'route', 'add', 'default', 'via', t.routerServerSideIp6]);
    await router.sysctl('net.ipv6.conf.all.forwarding', '1');
  }
  return { client, router, server, ...t };
}

/** Writes a self-signed certificate and key (EC P-256, CN and SAN `name`) into dir; returns the paths. */
export async function makeSelfSignedCert(dir: string, name: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await runCommand('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile };
}

// ---------------------------------------------------------------------------------------------
// Running the probe program (operator/probe/netcheck-probe.sh) inside a namespace.

export const PROBE_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../operator/probe/netcheck-probe.sh');

export interface ProbeRun {
  exitCode: number | null;
  /** The result file's content ('' when none was written). */
  resultText: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs the probe program in ns with exactly the given NETCHECK_* environment (plus PATH), the result
 * file in a fresh temporary directory unless env sets NETCHECK_RESULT_FILE.
 */
export async function runProbeProgram(ns: Netns, env: Record<string, string>, timeoutMs = 120_000): Promise<ProbeRun> {
  const dir = ns.lab.tempDir();
  const resultFile = join(dir, 'result.json');
  const fullEnv: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    NETCHECK_RESULT_FILE: resultFile,
    ...env,
  };
  const result = await ns.exec('bash', [PROBE_SCRIPT], { env: fullEnv, timeoutMs });
  let resultText = '';
  const written = fullEnv.NETCHECK_RESULT_FILE;
  if (written && existsSync(written)) resultText = readFileSync(written, 'utf8');
  return { exitCode: result.code, resultText, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs };
}

/** runProbeProgram, then parseProbeResult on the result file; throws (quoting the run) if it does not parse. */
export async function runProbe(ns: Netns, env: Record<string, string>, timeoutMs?: number): Promise<{ run: ProbeRun; result: ProbeResult }> {
  const run = await runProbeProgram(ns, env, timeoutMs);
  const parsed = parseProbeResult(run.resultText);
  if (!parsed.ok) {
    throw new Error(`probe result did not parse: ${parsed.error}\nexit ${run.exitCode}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  }
  return { run, result: parsed.result };
}

// ---------------------------------------------------------------------------------------------
// Small servers, as Node.js programs run with `node --input-type=module -e <source> -- args...`.

const TCP_LISTENER_PROGRAM = `
import { createServer } from 'node:net';
const [address, port] = process.argv.slice(1);
const server = createServer((socket) => socket.end());
server.listen(Number(port), address, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

const UDP_ECHO_PROGRAM = `
import { createSocket } from 'node:dgram';
const [address, port] = process.argv.slice(1);
const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
socket.bind(Number(port), address, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

const HTTP_SERVER_PROGRAM = `
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
const [address, port, status, certFile, keyFile] = process.argv.slice(1);
const handler = (req, res) => {
  console.log('request ' + req.method + ' ' + JSON.stringify(req.url) + ' host=' + JSON.stringify(req.headers.host));
  res.writeHead(Number(status), { 'content-type': 'text/plain' });
  res.end('status ' + status + '\\n');
};
const server = certFile
  ? createHttps({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler)
  : createHttp(handler);
server.on('tlsClientError', (err) => console.log('tlsClientError ' + err.code));
server.listen(Number(port), address, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

const DNS_RCODE_PROGRAM = `
import { createSocket } from 'node:dgram';
const [address, port, rcode] = process.argv.slice(1);
const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
socket.on('message', (query, rinfo) => {
  if (query.length < 12) return;
  const reply = Buffer.from(query);          // same id, question section kept
  reply[2] = 0x80 | (query[2] & 0x01);       // QR=1, opcode QUERY, RD copied
  reply[3] = 0x80 | (Number(rcode) & 0x0f);  // RA=1, rcode
  reply.writeUInt16BE(0, 6); reply.writeUInt16BE(0, 8); reply.writeUInt16BE(0, 10);
  let end = 12;                              // keep only the question: skip QNAME, QTYPE, QCLASS
  while (end < reply.length && reply[end] !== 0) end += reply[end] + 1;
  socket.send(reply.subarray(0, Math.min(end + 5, reply.length)), rinfo.port, rinfo.address);
  console.log('answered rcode ' + rcode);
});
socket.bind(Number(port), address, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Registers the mocha hooks every netns suite needs: stale namespaces swept once, a fresh NetnsLab
 * per test handed to `setup`, and after each test a cleanup that fails the test if a namespace was
 * left behind.
 */
export function useLab(setup: (lab: NetnsLab) => void | Promise<void>): void {
  let lab: NetnsLab | undefined;
  before(() => sweepStaleNamespaces());
  beforeEach(async () => {
    lab = new NetnsLab();
    await setup(lab);
  });
  afterEach(async () => {
    if (!lab) return;
    const id = lab.id;
    await lab.cleanup();
    if (listNamespaces(id).length > 0) throw new Error(`namespaces left behind: ${listNamespaces(id).join(', ')}`);
  });
}

/** useLab with the client -> router -> server topology built for each test. */
export function useRoutedLab(setup: (lab: NetnsLab, net: RoutedTopology) => void | Promise<void>): void {
  useLab(async (lab) => setup(lab, await buildRoutedTopology(lab)));
}
