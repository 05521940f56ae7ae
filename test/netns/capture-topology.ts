// Network-namespace helpers for the capture tests: a client -> router -> server chain built
// from veth pairs, processes started inside namespaces (tracked so only ours are stopped),
// and tcpdump runs built with the operator's own argv builder.
//
// Every address lives inside namespaces this file creates; nothing leaves the machine.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTcpdumpArgv } from '../../operator/capture/filter.ts';
import type { TcpdumpOptions } from '../../operator/capture/filter.ts';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs argv (no shell) and resolves with its output; rejects on a non-zero exit unless allowed. */
export function run(argv: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (code !== 0 && !options.allowFailure) {
        reject(new Error(`${argv.join(' ')} exited ${code ?? signal}: ${stderr.trim()}`));
      } else {
        resolve(result);
      }
    });
  });
}

export function inNetns(netns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}

export interface BackgroundProcess {
  child: ChildProcess;
  output(): string;
  /** Sends the signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<CommandResult>;
  exited: Promise<CommandResult>;
}

/**
 * Starts argv in the background; with readyPattern, resolves once stdout/stderr matches it.
 * `ip netns exec` execs the command in place, so the child's pid is the command's pid.
 */
export function startBackground(argv: string[], readyPattern?: RegExp, readyTimeoutMs = 10000): Promise<BackgroundProcess> {
  // Own process group: socat's per-connection children are stopped together with it.
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<CommandResult>((resolve) => {
    child.on('exit', (code, signal) => {
      // Give the pipes a moment to drain, but do not wait on descendants holding them open.
      const settle = setTimeout(() => resolve({ code, signal, stdout, stderr }), 500);
      child.on('close', () => {
        clearTimeout(settle);
        resolve({ code, signal, stdout, stderr });
      });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const handle: BackgroundProcess = {
    child,
    output: () => stdout + stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killTimer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      const result = await exited;
      clearTimeout(killTimer);
      // Forked helpers (socat children) outlive their parent otherwise.
      signalGroup('SIGKILL');
      return result;
    },
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const check = () => {
      if (!settled && (!readyPattern || readyPattern.test(stdout + stderr))) {
        settled = true;
        clearTimeout(timer);
        resolve(handle);
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} not ready after ${readyTimeoutMs} ms: ${stdout}${stderr}`));
    }, readyTimeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      check();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      check();
    });
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited ${result.code ?? result.signal} before ready: ${result.stderr}`));
    });
    if (!readyPattern) setImmediate(check);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let topologyCounter = 0;

/**
 * client (eth0) --- (r-cli) router (r-srv) --- (eth0) server, IPv4 and IPv6 on both links.
 * routerServerMtu lowers the MTU of the router's server-facing side only, so the server still
 * advertises a 1460 MSS and large client segments hit the narrow link.
 */
export class RoutedTopology {
  readonly client: string;
  readonly router: string;
  readonly server: string;
  readonly clientIp = '10.213.1.2';
  readonly routerClientIp = '10.213.1.1';
  readonly routerServerIp = '10.213.2.1';
  readonly serverIp = '10.213.2.2';
  readonly clientIp6 = 'fd00:213:1::2';
  readonly routerClientIp6 = 'fd00:213:1::1';
  readonly routerServerIp6 = 'fd00:213:2::1';
  readonly serverIp6 = 'fd00:213:2::2';
  readonly clientIf = 'eth0';
  readonly serverIf = 'eth0';
  readonly routerClientIf = 'r-cli';
  readonly routerServerIf = 'r-srv';
  workDir = '';
  private readonly processes: BackgroundProcess[] = [];

  constructor() {
    const id = `${process.pid % 100000}-${++topologyCounter}`;
    this.client = `ncap-${id}-cli`;
    this.router = `ncap-${id}-rtr`;
    this.server = `ncap-${id}-srv`;
  }

  static async create(options: { routerServerMtu?: number } = {}): Promise<RoutedTopology> {
    const topology = new RoutedTopology();
    try {
      await topology.build(options);
    } catch (error) {
      await topology.destroy();
      throw error;
    }
    return topology;
  }

  private async build(options: { routerServerMtu?: number }): Promise<void> {
    this.workDir = await mkdtemp(join(tmpdir(), 'netcheck-capture-'));
    for (const netns of [this.client, this.router, this.server]) {
      await run(['ip', 'netns', 'add', netns]);
      await run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
      // No duplicate address detection: link-local addresses (which neighbour discovery
      // uses) would otherwise stay tentative for a second and delay the first IPv6 packets.
      await run(inNetns(netns, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']));
    }
    await run(['ip', 'link', 'add', this.clientIf, 'netns', this.client, 'type', 'veth', 'peer', 'name', this.routerClientIf, 'netns', this.router]);
    await run(['ip', 'link', 'add', this.routerServerIf, 'netns', this.router, 'type', 'veth', 'peer', 'name', this.serverIf, 'netns', this.server]);
    const addresses: Array<[string, string, string]> = [
      [this.client, this.clientIf, `${this.clientIp}/24`],
      [this.client, this.clientIf, `${this.clientIp6}/64`],
      [this.router, this.routerClientIf, `${this.routerClientIp}/24`],
      [this.router, this.routerClientIf, `${this.routerClientIp6}/64`],
      [this.router, this.routerServerIf, `${this.routerServerIp}/24`],
      [this.router, this.routerServerIf, `${this.routerServerIp6}/64`],
      [this.server, this.serverIf, `${this.serverIp}/24`],
      [this.server, this.serverIf, `${this.serverIp6}/64`],
    ];
    for (const [netns, device, address] of addresses) {
      // nodad: IPv6 addresses are usable at once instead of after duplicate detection.
      const extra = address.includes(':') ? ['nodad'] : [];
      await run(['ip', '-n', netns, 'addr', 'add', address, 'dev', device, ...extra]);
    }
    await run(['ip', '-n', this.client, 'link', 'set', this.clientIf, 'up']);
    await run(['ip', '-n', this.server, 'link', 'set', this.serverIf, 'up']);
    await run(['ip', '-n', this.router, 'link', 'set', this.routerClientIf, 'up']);
    const mtu = options.routerServerMtu !== undefined ? ['mtu', String(options.routerServerMtu)] : [];
    await run(['ip', '-n', this.router, 'link', 'set', this.routerServerIf, 'up', ...mtu]);
    await run(['ip', '-n', this.client, 'route', 'add', 'default', 'via', this.routerClientIp]);
    await run(['ip', '-n', this.server, 'route', 'add', 'default', 'via', this.routerServerIp]);
    await run(['ip', '-n', this.client, '-6', 'route', 'add', 'default', 'via', this.routerClientIp6]);
    await run(['ip', '-n', this.server, '-6', 'route', 'add', 'default', 'via', this.routerServerIp6]);
    await run(inNetns(this.router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']));
    await run(inNetns(this.router, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']));
    // Fail fast if the chain does not forward.
    await run(inNetns(this.client, ['ping', '-c', '1', '-W', '2', this.serverIp]));
  }

  exec(netns: string, argv: string[], options?: { allowFailure?: boolean; timeoutMs?: number }): Promise<CommandResult> {
    return run(inNetns(netns, argv), options);
  }

  async background(netns: string, argv: string[], readyPattern?: RegExp): Promise<BackgroundProcess> {
    const handle = await startBackground(inNetns(netns, argv), readyPattern);
    this.processes.push(handle);
    return handle;
  }

  iptables(netns: string, rule: string[], family: 4 | 6 = 4): Promise<CommandResult> {
    return run(inNetns(netns, [family === 4 ? 'iptables' : 'ip6tables', '-w', ...rule]));
  }

  /** A TCP sink: accepts connections and discards what it reads. */
  tcpSink(port: number, family: 4 | 6 = 4): Promise<BackgroundProcess> {
    const listen = family === 4 ? `TCP4-LISTEN:${port},reuseaddr,fork` : `TCP6-LISTEN:${port},reuseaddr,fork,ipv6only=1`;
    return this.background(this.server, ['socat', '-u', listen, 'OPEN:/dev/null']);
  }

  /** dnsmasq on the server answering *.svc.test locally and NXDOMAIN for the rest of .test. */
  dnsServer(): Promise<BackgroundProcess> {
    return this.background(
      this.server,
      [
        'dnsmasq', '-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--pid-file=',
        `--listen-address=${this.serverIp}`, '--bind-interfaces',
        `--address=/svc.test/${this.serverIp}`, '--local=/test/', '--log-facility=-', '--log-queries',
      ],
      /started, version/,
    );
  }

  /** Starts tcpdump in a namespace with argv from buildTcpdumpArgv; stop() returns the pcap. */
  async capture(netns: string, name: string, options: Omit<TcpdumpOptions, 'outputPath'>, extraArgs: string[] = []): Promise<Capture> {
    const outputPath = join(this.workDir, `${name}.pcap`);
    const built = buildTcpdumpArgv({ ...options, outputPath });
    if (!built.ok) throw new Error(`tcpdump argv rejected: ${built.error}`);
    // Test-only options (timestamp precision, link type) go right after the program name.
    const argv = [built.argv[0], ...extraArgs, ...built.argv.slice(1)];
    const handle = await this.background(netns, argv, /listening on/);
    return new Capture(handle, outputPath, built.argv);
  }

  async destroy(): Promise<void> {
    for (const handle of this.processes.splice(0)) await handle.stop();
    for (const netns of [this.client, this.router, this.server]) {
      await run(['ip', 'netns', 'del', netns], { allowFailure: true });
    }
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }
}

export class Capture {
  readonly handle: BackgroundProcess;
  readonly path: string;
  readonly argv: string[];
  constructor(handle: BackgroundProcess, path: string, argv: string[]) {
    this.handle = handle;
    this.path = path;
    this.argv = argv;
  }

  /** Lets the last packets land, interrupts tcpdump (it flushes on SIGINT) and reads the file. */
  async stop(settleMs = 300): Promise<Buffer> {
    await sleep(settleMs);
    const result = await this.handle.stop('SIGINT');
    if (result.code !== 0) throw new Error(`tcpdump exited ${result.code ?? result.signal}: ${result.stderr}`);
    return readFile(this.path);
  }
}

/** The file name a real capture is recorded under when NETCHECK_RECORD_PCAP_FIXTURES=1. */
export const FIXTURE_DIR = new URL('../fixtures/pcap/', import.meta.url);
