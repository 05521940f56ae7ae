// Builds the tcpdump command for a check. The user may add an extra filter; it is checked
// against a small allowlist grammar, re-emitted from its tokens (never the raw text) and
// handed to tcpdump as one argv element after `--`, so it can neither reach a shell nor be
// read as a tcpdump option.

import { isIPv4, isIPv6 } from 'node:net';
import { parseIp } from './address.ts';

export const MAX_USER_FILTER_LENGTH = 256;
export const DEFAULT_SNAP_LENGTH = 128;
export const DEFAULT_MAX_PACKETS = 2000;
export const MIN_SNAP_LENGTH = 68;
export const MAX_SNAP_LENGTH = 262144;
export const MAX_PACKETS_LIMIT = 100000;
export const MAX_DURATION_SECONDS = 3600;
const DNS_PORT = 53;

export type FilterResult =
  | { ok: true; expression: string }
  | { ok: false; error: string; token?: string };

export type ArgvResult = { ok: true; argv: string[]; filter: string } | { ok: false; error: string; token?: string };

const DIRECTIONS = new Set(['src', 'dst']);
const COMBINERS = new Set(['and', 'or']);
const BARE_PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'icmp6', 'ip', 'ip6']);
const PORT_PROTOCOLS = new Set(['tcp', 'udp']);
const ADDRESS_PROTOCOLS = new Set(['ip', 'ip6']);

/** Shown in errors: quoted, escapes visible, long tokens clipped. */
function showToken(token: string): string {
  const clipped = token.length > 40 ? `${token.slice(0, 40)}...` : token;
  return JSON.stringify(clipped);
}

class FilterSyntaxError extends Error {
  readonly token: string | undefined;
  constructor(message: string, token?: string) {
    super(message);
    this.token = token;
  }
}

function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}

function isPortRange(text: string): boolean {
  const match = /^([0-9]+)-([0-9]+)$/.exec(text);
  return match !== null && isPort(match[1]) && isPort(match[2]) && Number(match[1]) <= Number(match[2]);
}

function addressFamily(text: string): 4 | 6 | undefined {
  // Zone ids ("%eth0") and anything but hex digits, dots and colons are refused outright.
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return undefined;
}

/** Returns the family of a valid CIDR whose host bits are zero (tcpdump rejects the others). */
function cidrFamily(text: string): 4 | 6 | undefined {
  const match = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  if (!match) return undefined;
  const family = addressFamily(match[1]);
  const prefix = Number(match[2]);
  if (family === undefined || prefix > (family === 4 ? 32 : 128)) return undefined;
  const bytes = parseIp(match[1]);
  if (!bytes) return undefined;
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return undefined;
  }
  return family;
}

/** Splits on spaces and around parentheses. Control characters were refused before. */
function tokenize(text: string): string[] {
  return text.replace(/[()]/g, ' $& ').split(' ').filter((token) => token.length > 0);
}

/** Recursive-descent check of the allowlisted subset of pcap-filter(7). */
class FilterParser {
  readonly tokens: string[];
  position = 0;
  constructor(tokens: string[]) {
    this.tokens = tokens;
  }

  peek(): string | undefined {
    return this.tokens[this.position];
  }

  next(expected: string): string {
    const token = this.tokens[this.position];
    if (token === undefined) throw new FilterSyntaxError(`filter ends where ${expected} was expected`);
    this.position++;
    return token;
  }

  fail(token: string, expected: string): never {
    throw new FilterSyntaxError(`unexpected token ${showToken(token)} where ${expected} was expected`, token);
  }

  parseAll(): void {
    this.parseExpression();
    const rest = this.peek();
    if (rest !== undefined) this.fail(rest, '"and", "or" or the end of the filter');
  }

  parseExpression(): void {
    this.parseUnary();
    while (this.peek() !== undefined && COMBINERS.has(this.peek() as string)) {
      this.position++;
      this.parseUnary();
    }
  }

  parseUnary(): void {
    const token = this.next('a filter primitive');
    if (token === 'not') return this.parseUnary();
    if (token === '(') {
      this.parseExpression();
      const closing = this.next('")"');
      if (closing !== ')') this.fail(closing, '")"');
      return;
    }
    this.parsePrimitive(token);
  }

  parsePrimitive(first: string): void {
    let token = first;
    let protocol: string | undefined;
    if (BARE_PROTOCOLS.has(token)) {
      protocol = token;
      const following = this.peek();
      const qualifies =
        following !== undefined &&
        ((PORT_PROTOCOLS.has(protocol) && (DIRECTIONS.has(following) || following === 'port' || following === 'portrange')) ||
          (ADDRESS_PROTOCOLS.has(protocol) && (DIRECTIONS.has(following) || following === 'host' || following === 'net')));
      if (!qualifies) return;
      token = this.next('a qualifier');
    }
    if (DIRECTIONS.has(token)) token = this.next('"host", "net", "port" or "portrange"');
    switch (token) {
      case 'host':
      case 'net': {
        if (protocol !== undefined && !ADDRESS_PROTOCOLS.has(protocol)) this.fail(token, '"port" or "portrange"');
        const value = this.next(token === 'host' ? 'an IP address' : 'a CIDR');
        const family = token === 'host' ? addressFamily(value) : cidrFamily(value);
        if (family === undefined) {
          this.fail(value, token === 'host' ? 'an IPv4 or IPv6 address' : 'a CIDR with zero host bits (e.g. 10.0.0.0/8)');
        }
        if ((protocol === 'ip' && family === 6) || (protocol === 'ip6' && family === 4)) {
          this.fail(value, `an IPv${protocol === 'ip' ? 4 : 6} address after "${protocol}"`);
        }
        return;
      }
      case 'port':
      case 'portrange': {
        if (protocol !== undefined && !PORT_PROTOCOLS.has(protocol)) this.fail(token, '"host" or "net"');
        const value = this.next(token === 'port' ? 'a port number' : 'a port range');
        const valid = token === 'port' ? isPort(value) : isPortRange(value);
        if (!valid) this.fail(value, token === 'port' ? 'a port number 1-65535' : 'a port range like 30000-32767');
        return;
      }
      default:
        this.fail(token, 'a filter primitive (host, net, port, portrange, tcp, udp, icmp, icmp6, ip, ip6)');
    }
  }
}

/**
 * Checks a user-supplied extra filter against the allowlist grammar:
 * host/net/port/portrange with optional src/dst and tcp/udp/ip/ip6 qualifiers, bare
 * tcp/udp/icmp/icmp6/ip/ip6, and/or/not, parentheses, IP literals, CIDRs, ports 1-65535.
 * No hostnames, no port names, no byte offsets. An empty filter is valid (expression "").
 */
export function validateUserFilter(text: string): FilterResult {
  if (text.length > MAX_USER_FILTER_LENGTH) {
    return { ok: false, error: `filter is ${text.length} characters long; the limit is ${MAX_USER_FILTER_LENGTH}` };
  }
  const badCharacter = /[^\x20-\x7e]/.exec(text);
  if (badCharacter) {
    return {
      ok: false,
      error: `character ${showToken(badCharacter[0])} at position ${badCharacter.index} is not allowed`,
      token: badCharacter[0],
    };
  }
  const tokens = tokenize(text);
  if (tokens.length === 0) return { ok: true, expression: '' };
  try {
    new FilterParser(tokens).parseAll();
  } catch (error) {
    if (error instanceof FilterSyntaxError) {
      return error.token === undefined ? { ok: false, error: error.message } : { ok: false, error: error.message, token: error.token };
    }
    throw error;
  }
  // Re-emitted from tokens: what tcpdump gets is exactly what was validated.
  return { ok: true, expression: tokens.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')') };
}

export type CheckProtocol = 'TCP' | 'UDP' | 'HTTP' | 'HTTPS' | 'ICMP' | 'DNS';

export interface CaptureFilterSpec {
  protocol: CheckProtocol;
  /** The destination addresses as seen at this capture point (may be empty: protocol/port only). */
  destinationIps: string[];
  destinationPort?: number;
  /** Also capture DNS (port 53), so name-resolution failures show up. Default true. */
  includeDns?: boolean;
  /** Also capture ICMP/ICMPv6, where routers report unreachable and frag-needed. Default true. */
  includeIcmp?: boolean;
  /** The optional user filter from spec.capture; ANDed with the built filter. */
  extraFilter?: string;
}

function targetClause(spec: CaptureFilterSpec): string {
  const hosts = spec.destinationIps.map((ip) => `host ${ip}`);
  const hostClause = hosts.length > 1 ? `(${hosts.join(' or ')})` : hosts[0];
  const port = spec.destinationPort;
  let transport: string;
  switch (spec.protocol) {
    case 'TCP':
    case 'HTTP':
    case 'HTTPS':
      transport = port !== undefined ? `tcp port ${port}` : 'tcp';
      break;
    case 'UDP':
      transport = port !== undefined ? `udp port ${port}` : 'udp';
      break;
    case 'DNS':
      transport = `port ${port ?? DNS_PORT}`;
      break;
    case 'ICMP':
      transport = '(icmp or icmp6)';
      break;
  }
  return hostClause ? `${hostClause} and ${transport}` : transport;
}

/** The tcpdump filter expression for a check, or an error naming the bad token. */
export function buildCaptureFilter(spec: CaptureFilterSpec): FilterResult {
  for (const ip of spec.destinationIps) {
    if (addressFamily(ip) === undefined) return { ok: false, error: `destination ${showToken(ip)} is not an IP address`, token: ip };
  }
  if (spec.destinationPort !== undefined && !isPort(String(spec.destinationPort))) {
    return { ok: false, error: `destination port ${spec.destinationPort} is not 1-65535`, token: String(spec.destinationPort) };
  }
  const clauses = [targetClause(spec)];
  if ((spec.includeDns ?? true) && spec.protocol !== 'DNS') clauses.push(`port ${DNS_PORT}`);
  if ((spec.includeIcmp ?? true) && spec.protocol !== 'ICMP') clauses.push('icmp or icmp6');
  let expression = clauses.length > 1 ? clauses.map((clause) => `(${clause})`).join(' or ') : clauses[0];
  if (spec.extraFilter !== undefined) {
    const extra = validateUserFilter(spec.extraFilter);
    if (!extra.ok) return { ok: false, error: `capture filter rejected: ${extra.error}`, ...(extra.token !== undefined ? { token: extra.token } : {}) };
    if (extra.expression) expression = `(${expression}) and (${extra.expression})`;
  }
  return { ok: true, expression };
}

export interface TcpdumpOptions {
  /** Interface name, or "any" (link type LINUX_SLL2 on libpcap >= 1.10). */
  interface: string;
  /** Absolute path of the pcap file to write; without it the caller adds -w (the probe program does). */
  outputPath?: string;
  filter: CaptureFilterSpec;
  snapLength?: number;
  maxPackets?: number;
  /** When set, the argv starts with `timeout -s INT <seconds>` so tcpdump flushes and exits. */
  durationSeconds?: number;
  tcpdumpPath?: string;
}

const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;

function checkInteger(name: string, value: number, min: number, max: number): string | undefined {
  if (!Number.isInteger(value) || value < min || value > max) return `${name} must be an integer from ${min} to ${max}, got ${value}`;
  return undefined;
}

/**
 * The argv that runs tcpdump for a check (exec it directly: never join it into a shell line).
 * -nn: no name lookups (they would add DNS traffic of their own); -U: flush per packet so a
 * killed capture still holds whole records; --immediate-mode: without it libpcap hands packets
 * over in ring-buffer blocks (up to 1 s late) and a capture stopped right after the probe
 * loses the last block — exactly the packets that explain the failure.
 */
export function buildTcpdumpArgv(options: TcpdumpOptions): ArgvResult {
  if (!INTERFACE_NAME.test(options.interface)) {
    return { ok: false, error: `interface ${showToken(options.interface)} is not a valid interface name`, token: options.interface };
  }
  if (options.outputPath !== undefined && (!SAFE_PATH.test(options.outputPath) || options.outputPath.split('/').includes('..'))) {
    return { ok: false, error: `output path ${showToken(options.outputPath)} must be absolute and plain`, token: options.outputPath };
  }
  const snapLength = options.snapLength ?? DEFAULT_SNAP_LENGTH;
  const maxPackets = options.maxPackets ?? DEFAULT_MAX_PACKETS;
  const problem =
    checkInteger('snapLength', snapLength, MIN_SNAP_LENGTH, MAX_SNAP_LENGTH) ??
    checkInteger('maxPackets', maxPackets, 1, MAX_PACKETS_LIMIT) ??
    (options.durationSeconds !== undefined ? checkInteger('durationSeconds', options.durationSeconds, 1, MAX_DURATION_SECONDS) : undefined);
  if (problem) return { ok: false, error: problem };
  const filter = buildCaptureFilter(options.filter);
  if (!filter.ok) return filter;
  const tcpdump = [
    options.tcpdumpPath ?? 'tcpdump',
    '-i', options.interface,
    '-nn',
    '-U',
    '--immediate-mode',
    '-s', String(snapLength),
    '-c', String(maxPackets),
    ...(options.outputPath !== undefined ? ['-w', options.outputPath] : []),
    '--',
    filter.expression,
  ];
  const argv = options.durationSeconds !== undefined ? ['timeout', '-s', 'INT', String(options.durationSeconds), ...tcpdump] : tcpdump;
  return { ok: true, argv, filter: filter.expression };
}
