// status.reproduce: kubectl commands that repeat the failing step by hand, from where the probe stood.
// Commands are argv arrays until the end, and every value reaches the user's shell as ONE word,
// whatever it contains. They run the operator's own probe image, never the check's spec.probe.image:
// an admin pastes them, and a tenant must not choose what runs on a node with --profile=sysadmin.
import type { ReproContext, Transport } from './analysis.ts';
import { selectorString } from './evidence.ts';

export type Argv = readonly string[];

export const MAX_REPRODUCE_COMMANDS = 10;
export const MAX_REPRODUCE_LENGTH = 2048;

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: safe words as they are, everything else in single quotes ('\'' for a quote). */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: Argv): string {
  return argv.map(shellQuote).join(' ');
}

/** A plain host name or IP that no tool would read as an option: only such values are passed to a tool. */
export function toolArgSafe(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_[\]][A-Za-z0-9_.:%[\]-]*$/.test(value);
}

export function kubectl(namespace: string | undefined, ...args: string[]): Argv {
  return namespace ? ['kubectl', '-n', namespace, ...args] : ['kubectl', ...args];
}

/** The command run where the probe ran: a debug container in the source pod, a new pod, or the node. */
export function fromSource(repro: ReproContext, argv: Argv): Argv {
  const image = `--image=${repro.image}`;
  if (repro.sourceNode) return ['kubectl', 'debug', `node/${repro.sourceNode}`, '-it', image, '--', ...argv];
  if (repro.newPodLabels) {
    const labels = selectorString(repro.newPodLabels);
    return [
      'kubectl',
      '-n',
      repro.namespace,
      'run',
      'netcheck-debug',
      '--rm',
      '-it',
      '--restart=Never',
      image,
      ...(labels ? [`--labels=${labels}`] : []),
      '--',
      ...argv,
    ];
  }
  return ['kubectl', '-n', repro.namespace, 'debug', '-it', `pod/${repro.sourcePod ?? '<source-pod>'}`, image, '--', ...argv];
}

/** The command run on a node's host (sysctl, iptables, conntrack). */
export function onNode(repro: ReproContext, node: string, argv: Argv): Argv {
  return ['kubectl', 'debug', `node/${node}`, '-it', '--profile=sysadmin', `--image=${repro.image}`, '--', ...argv];
}

export function connectCommand(repro: ReproContext, transport: Transport, ip: string | undefined, port: number | undefined): Argv[] {
  if (!toolArgSafe(ip) || port === undefined) return [];
  const seconds = String(repro.timeoutSeconds);
  return [fromSource(repro, transport === 'UDP' ? ['nc', '-vzu', '-w', seconds, ip, String(port)] : ['nc', '-vz', '-w', seconds, ip, String(port)])];
}

export function httpCommand(repro: ReproContext, attempt: { connect?: { ip: string; port: number }; http?: { url?: string } }): Argv[] {
  const url = attempt.http?.url;
  if (!url || !/^https?:\/\//.test(url)) return [];
  const argv = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total}s\\n', '--max-time', String(repro.timeoutSeconds)];
  const connect = attempt.connect;
  const urlHost = /^https?:\/\/(\[[^\]]+\]|[^/:]+)/.exec(url)?.[1];
  if (connect && urlHost && toolArgSafe(connect.ip) && urlHost !== connect.ip && urlHost !== `[${connect.ip}]`) {
    const to = connect.ip.includes(':') ? `[${connect.ip}]` : connect.ip;
    argv.push('--connect-to', `${urlHost}:${connect.port}:${to}:${connect.port}`);
  }
  argv.push('--', url);
  return [fromSource(repro, argv)];
}

export function pingCommand(repro: ReproContext, ip: string | undefined): Argv[] {
  return toolArgSafe(ip) ? [fromSource(repro, ['ping', '-c', '3', ip])] : [];
}

export function digCommand(repro: ReproContext, name: string | undefined): Argv[] {
  if (!toolArgSafe(name)) return [];
  return [fromSource(repro, ['cat', '/etc/resolv.conf']), fromSource(repro, ['dig', '+search', '+tries=1', `+time=${repro.timeoutSeconds}`, name])];
}

/** The reproduce commands as shell lines: at most 10, each at most 2048 characters, no duplicates. */
export function renderReproduce(commands: readonly Argv[]): string[] {
  const lines: string[] = [];
  for (const argv of commands) {
    const line = shellJoin(argv);
    if (line.length <= MAX_REPRODUCE_LENGTH && !lines.includes(line)) lines.push(line);
    if (lines.length === MAX_REPRODUCE_COMMANDS) break;
  }
  return lines;
}
