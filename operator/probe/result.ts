// The probe program's result document (operator/probe/netcheck-probe.sh), version 1, and its strict
// parser. The probe writes ONE compact JSON document to the container's termination message (which
// the kubelet cuts at 4096 bytes, hence the bound below); the operator parses it here and maps any
// failure to the check reason `ProbeOutputInvalid`, quoting the start of the bad input.
//
// Strict means: the version must be known, every field has the right type, enums are closed, numbers
// are in range, strings are bounded, and unknown keys are refused. A field the probe emits but the
// parser does not know is a contract break to be fixed on one side or the other, not silently ignored.
import { isIP } from 'node:net';

/** The `v` of documents this parser understands. */
export const PROBE_RESULT_SCHEMA_VERSION = 1;
/** The kubelet keeps at most this many bytes of a termination message. */
export const PROBE_RESULT_MAX_BYTES = 4096;
/** How much of a bad document error messages quote. */
export const PROBE_OUTPUT_QUOTE_BYTES = 200;

/** The probe program's exit status. The result file is written in both the ok and invalidInput cases. */
export const PROBE_EXIT_CODES = { ok: 0, internalError: 1, invalidInput: 2 } as const;

/**
 * The environment variables the probe program reads (see the header of netcheck-probe.sh for formats).
 * Values are always strings; flags are "1"/"0"; NETCHECK_ENDPOINTS is "ip:port ip:port" ("[v6]:port").
 */
export const PROBE_ENV = {
  mode: 'NETCHECK_MODE',
  protocol: 'NETCHECK_PROTOCOL',
  host: 'NETCHECK_HOST',
  targetIp: 'NETCHECK_TARGET_IP',
  port: 'NETCHECK_PORT',
  timeoutSeconds: 'NETCHECK_TIMEOUT',
  endpoints: 'NETCHECK_ENDPOINTS',
  httpPath: 'NETCHECK_HTTP_PATH',
  httpMethod: 'NETCHECK_HTTP_METHOD',
  httpHost: 'NETCHECK_HTTP_HOST',
  httpExpected: 'NETCHECK_HTTP_EXPECTED',
  tlsVerify: 'NETCHECK_TLS_VERIFY',
  dnsType: 'NETCHECK_DNS_TYPE',
  ping: 'NETCHECK_PING',
  mtuCheck: 'NETCHECK_MTU_CHECK',
  mtuTarget: 'NETCHECK_MTU_TARGET',
  serviceIp: 'NETCHECK_SERVICE_IP',
  resultFile: 'NETCHECK_RESULT_FILE',
  paramsFile: 'NETCHECK_PARAMS_FILE',
  /** tcpdump's arguments, one per line (operator/probe/capture.ts builds them). */
  captureArgv: 'NETCHECK_CAPTURE_ARGV',
  captureSeconds: 'NETCHECK_CAPTURE_SECONDS',
  /** Why the pod runs without the ping_group_range sysctl: SysctlRefused | SysctlForbidden (ICMP steps not run). */
  icmpBlocked: 'NETCHECK_ICMP_BLOCKED',
} as const;

/**
 * How the program's "skipped" icmp and mtu sections begin when ICMP is impossible in the probe's
 * sandbox (no ICMP socket allowed, or the operator had to drop the sysctl): netcheck-probe.sh icmp_setup.
 */
export const ICMP_UNAVAILABLE_PREFIX = 'ICMP unavailable: ';

/** At most this many endpoints may be passed in NETCHECK_ENDPOINTS. */
export const PROBE_MAX_ENDPOINTS = 64;

/**
 * Wall-clock seconds one run of the probe program can take for a given NETCHECK_TIMEOUT: its
 * watchdog stops probes at 5*timeout+20 s, plus a few seconds to assemble and write the document.
 * Pod templates should set activeDeadlineSeconds to at least this plus the pod start-up allowance.
 */
export function probeRunBudgetSeconds(timeoutSeconds: number): number {
  return 5 * timeoutSeconds + 25;
}

export const PROBE_MODES = ['pod', 'node'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];

export const PROBE_PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'ICMP', 'DNS'] as const;
export type ProbeProtocol = (typeof PROBE_PROTOCOLS)[number];

/** done: the probes ran (whatever the network did). invalidInput: a parameter was refused, nothing ran. */
export const PROBE_RUN_STATUSES = ['done', 'invalidInput'] as const;
export type ProbeRunStatus = (typeof PROBE_RUN_STATUSES)[number];

export const PROBE_ERROR_CODES = [
  'InvalidParameter',
  'MissingParameter',
  'UnknownParameter',
  'ToolMissing',
  'ProbeTimeout',
  'ProbeFailed',
] as const;
export type ProbeErrorCode = (typeof PROBE_ERROR_CODES)[number];

export const PROBE_SECTIONS = ['resolv', 'dns', 'connect', 'http', 'icmp', 'endpoints', 'mtu', 'node'] as const;
export type ProbeSection = (typeof PROBE_SECTIONS)[number];

/**
 * ok: connected (TCP) / got a reply (UDP). refused: RST, or ICMP port unreachable for UDP.
 * timeout: no answer at all (SYN dropped). unreachable: ICMP host/net unreachable or no local route.
 * noReply: UDP only, nothing came back and no ICMP error (open|filtered). error: anything else (see err).
 */
export const CONNECT_STATUSES = ['ok', 'refused', 'timeout', 'unreachable', 'noReply', 'error'] as const;
export type ConnectStatus = (typeof CONNECT_STATUSES)[number];

/** The outcome of the whole lookup as the C library resolver would see it. */
export const DNS_STATUSES = ['ok', 'nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'unreachable', 'error'] as const;
export type DnsStatus = (typeof DNS_STATUSES)[number];

export const HTTP_STATUSES = [
  'ok',
  'unexpectedStatus',
  'tlsError',
  'timeout',
  'refused',
  'unreachable',
  'dnsError',
  'protocolError',
  'error',
] as const;
export type HttpStatus = (typeof HTTP_STATUSES)[number];

export const ICMP_STATUSES = ['ok', 'partialLoss', 'loss', 'unreachable', 'error'] as const;
export type IcmpStatus = (typeof ICMP_STATUSES)[number];

/**
 * ok: full-size DF packets pass. fragNeeded: the path MTU is lower and routers say so (ICMP
 * frag-needed), so PMTU discovery works. blackhole: packets above largestOk vanish silently.
 * unreachable: not even a small DF ping was answered, nothing measured. error: see err.
 */
export const MTU_STATUSES = ['ok', 'fragNeeded', 'blackhole', 'unreachable', 'error'] as const;
export type MtuStatus = (typeof MTU_STATUSES)[number];

export const PROXY_MODES = ['iptables', 'ipvs', 'nftables', 'none', 'unknown'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export interface ProbeError {
  code: ProbeErrorCode;
  /** The NETCHECK_* parameter concerned. */
  param?: string;
  /** The section concerned (ProbeTimeout / ProbeFailed). */
  probe?: ProbeSection;
  msg: string;
}

export interface ProbeTarget {
  host?: string;
  ip?: string;
  port?: number;
}

/** A destination probe that could not start because no destination address was known. */
export interface SkippedProbe {
  status: 'skipped';
  err?: string;
}

export interface ResolvConf {
  /** Nameservers in order (at most 3, as the C library uses). */
  ns: string[];
  search: string[];
  ndots: number;
  timeout: number;
  attempts: number;
  err?: string;
}

export interface DnsTry {
  qname: string;
  /** The rcode (NOERROR, NXDOMAIN, SERVFAIL, ...) or timeout / unreachable / error. */
  result: string;
  ms: number;
  server: string;
}

export interface DnsResult {
  status: DnsStatus;
  /** The name as given. */
  name: string;
  type: 'A' | 'AAAA';
  /** The last fully qualified name tried (the one that answered when ok). */
  qname: string | null;
  rcode: string | null;
  /** Addresses of the answer. */
  answers: string[];
  cnames: string[];
  /** Sum of all queries' latency: what the application waited. */
  ms: number;
  /** The server that gave the decisive answer. */
  server: string | null;
  /** Queries sent, search-path expansion included. */
  queries: number;
  tries: DnsTry[];
  err?: string;
}

export interface ConnectResult {
  proto: 'TCP' | 'UDP';
  ip: string;
  port: number;
  status: ConnectStatus;
  ms: number;
  /** An errno name (ECONNREFUSED, EHOSTUNREACH, ...) or a short explanation. */
  err?: string;
}

export interface EndpointResult {
  ip: string;
  port: number;
  status: ConnectStatus;
  ms: number;
  err?: string;
}

export interface EndpointsResult {
  total: number;
  ok: number;
  /** May be shorter than total when the document was truncated (failed endpoints are kept first). */
  items: EndpointResult[];
}

export interface HttpTimings {
  dns: number;
  connect: number;
  tls: number;
  ttfb: number;
  total: number;
}

export interface HttpResult {
  url?: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'PATCH';
  status: HttpStatus;
  code: number | null;
  curlExit: number | null;
  /** Milliseconds from the start of the request (curl's time_* values). */
  ms: HttpTimings | null;
  err?: string;
}

export interface IcmpResult {
  ip: string;
  status: IcmpStatus;
  sent: number;
  received: number;
  lossPct: number;
  rtt: { min: number; avg: number; max: number } | null;
  err?: string;
}

export interface MtuResult {
  ip: string;
  status: MtuStatus;
  /** The interface the route to ip leaves by, and its MTU. */
  iface: string | null;
  local: number | null;
  /** The path MTU found (bytes, IP header included). */
  path: number | null;
  /** An ICMP frag-needed (or the kernel's PMTU cache fed by one) was seen. */
  fragNeeded: boolean;
  largestOk: number | null;
  smallestLost: number | null;
  pings: number;
  err?: string;
}

export interface ServiceRules {
  ip: string;
  /** Rules in the nat table matching `-d <ip>/32` (KUBE-SERVICES entries). */
  rules: number;
  chains: string[];
  /** KUBE-SEP jumps in the service's KUBE-SVC chains. */
  endpoints: number;
  /** REJECT/DROP rules for the IP in the filter table (kube-proxy's "has no endpoints"). */
  rejectRules: number;
}

export interface NodeResult {
  ipForward: 0 | 1 | null;
  bridgeNfCallIptables: 0 | 1 | null;
  conntrackCount: number | null;
  conntrackMax: number | null;
  proxyMode: ProxyMode;
  svc?: ServiceRules;
  err?: string;
}

export interface ProbeResult {
  v: typeof PROBE_RESULT_SCHEMA_VERSION;
  status: ProbeRunStatus;
  mode: ProbeMode | null;
  proto: ProbeProtocol | null;
  target: ProbeTarget;
  /** UTC, seconds precision. */
  startedAt: string;
  /** Duration of the run. */
  ms: number;
  /** Lists or detail were cut to fit PROBE_RESULT_MAX_BYTES (the full document is in the pod log). */
  truncated: boolean;
  errors: ProbeError[];
  // Sections appear when the probe ran.
  resolv?: ResolvConf;
  dns?: DnsResult;
  connect?: ConnectResult | SkippedProbe;
  http?: HttpResult;
  icmp?: IcmpResult | SkippedProbe;
  endpoints?: EndpointsResult;
  mtu?: MtuResult | SkippedProbe;
  node?: NodeResult;
  capture?: CaptureRunResult;
}

/** How the packet capture alongside the probes went; the pcap itself follows in the pod log. */
export interface CaptureRunResult {
  status: 'ok' | 'failed';
  /** Size of the pcap file. */
  bytes: number;
  /** tcpdump's own count, when it printed one. */
  packets?: number;
  err?: string;
}

export type ParseProbeResult = { ok: true; result: ProbeResult } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------------
// A tiny strict validator. Each Check returns the typed value or throws a SchemaError naming the
// JSON path; objects refuse unknown keys.

class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

type Check<T> = (value: unknown, path: string) => T;
type Out<C> = C extends Check<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `string ${JSON.stringify(value.slice(0, 40))}` : `${typeof value} ${String(value).slice(0, 40)}`;
}

function str(opts: { max: number; min?: number; pattern?: RegExp; what?: string }): Check<string> {
  return (value, path) => {
    if (typeof value !== 'string') throw new SchemaError(path, `expected a string, got ${describe(value)}`);
    if (value.length < (opts.min ?? 0) || value.length > opts.max) {
      throw new SchemaError(path, `string length ${value.length} outside ${opts.min ?? 0}..${opts.max}`);
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      throw new SchemaError(path, `expected ${opts.what ?? `a string matching ${opts.pattern}`}, got ${describe(value)}`);
    }
    return value;
  };
}

const ip: Check<string> = (value, path) => {
  if (typeof value !== 'string' || isIP(value) === 0) throw new SchemaError(path, `expected an IP address, got ${describe(value)}`);
  return value;
};

function int(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new SchemaError(path, `expected an integer, got ${describe(value)}`);
    if (value < min || value > max) throw new SchemaError(path, `${value} outside ${min}..${max}`);
    return value;
  };
}

function num(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new SchemaError(path, `expected a number, got ${describe(value)}`);
    if (value < min || value > max) throw new SchemaError(path, `${value} outside ${min}..${max}`);
    return value;
  };
}

const bool: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new SchemaError(path, `expected a boolean, got ${describe(value)}`);
  return value;
};

function oneOf<const T extends readonly (string | number)[]>(values: T): Check<T[number]> {
  return (value, path) => {
    if (!values.includes(value as T[number])) {
      throw new SchemaError(path, `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`);
    }
    return value as T[number];
  };
}

function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

function arr<T>(check: Check<T>, max: number): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new SchemaError(path, `expected an array, got ${describe(value)}`);
    if (value.length > max) throw new SchemaError(path, `array of ${value.length} items, at most ${max} allowed`);
    return value.map((item, i) => check(item, `${path}[${i}]`));
  };
}

type Shape = Record<string, Check<unknown>>;
type ObjectOf<R extends Shape, O extends Shape> = { [K in keyof R]: Out<R[K]> } & { [K in keyof O]?: Out<O[K]> };

function obj<R extends Shape, O extends Shape = Record<never, never>>(required: R, optional?: O): Check<ObjectOf<R, O>> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SchemaError(path, `expected an object, got ${describe(value)}`);
    }
    const input = value as Record<string, unknown>;
    const output: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (!Object.hasOwn(required, key) && !(optional && Object.hasOwn(optional, key))) {
        throw new SchemaError(`${path}.${key}`, 'unknown field');
      }
    }
    for (const [key, check] of Object.entries(required)) {
      if (!Object.hasOwn(input, key)) throw new SchemaError(`${path}.${key}`, 'missing required field');
      output[key] = check(input[key], `${path}.${key}`);
    }
    for (const [key, check] of Object.entries(optional ?? {})) {
      if (Object.hasOwn(input, key)) output[key] = check(input[key], `${path}.${key}`);
    }
    return output as ObjectOf<R, O>;
  };
}

/** A destination probe section, or its skipped form. */
function orSkipped<T>(check: Check<T>): Check<T | SkippedProbe> {
  const skipped: Check<SkippedProbe> = obj({ status: oneOf(['skipped'] as const) }, { err: errText });
  return (value, path) => {
    const status = typeof value === 'object' && value !== null ? (value as { status?: unknown }).status : undefined;
    return status === 'skipped' ? skipped(value, path) : check(value, path);
  };
}

// Field formats.
const MAX_MS = 3_600_000;
const errText = str({ max: 256 });
const hostname = str({
  max: 254,
  min: 1,
  pattern: /^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/,
  what: 'a DNS name',
});
const hostOrIp: Check<string> = (value, path) => (typeof value === 'string' && isIP(value) !== 0 ? value : hostname(value, path));
const port = int(1, 65535);
const ms = int(0, MAX_MS);
const mtuBytes = int(68, 65536);
const paramName = str({ max: 64, min: 1, pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, what: 'a parameter name' });
const rcode = str({ max: 12, min: 1, pattern: /^[A-Z0-9]+$/, what: 'a DNS rcode' });
const dnsTryResult = str({ max: 12, min: 1, pattern: /^([A-Z0-9]+|timeout|unreachable|error)$/, what: 'an rcode or timeout/unreachable/error' });
const chainName = str({ max: 40, pattern: /^KUBE-[A-Z]+-[A-Z0-9]+$/, what: 'a KUBE-* chain name' });
const timestamp = str({ max: 20, pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, what: 'a UTC timestamp like 2025-01-31T12:00:00Z' });
const zeroOrOne = oneOf([0, 1] as const);
const count = int(0, Number.MAX_SAFE_INTEGER);

const probeErrorCheck: Check<ProbeError> = obj(
  { code: oneOf(PROBE_ERROR_CODES), msg: str({ max: 256 }) },
  { param: paramName, probe: oneOf(PROBE_SECTIONS) },
);

const targetCheck: Check<ProbeTarget> = obj({}, { host: hostOrIp, ip, port });

const resolvCheck: Check<ResolvConf> = obj(
  {
    ns: arr(ip, 3),
    search: arr(hostname, 6),
    ndots: int(0, 15),
    timeout: int(0, 30),
    attempts: int(0, 5),
  },
  { err: errText },
);

const dnsCheck: Check<DnsResult> = obj(
  {
    status: oneOf(DNS_STATUSES),
    name: hostname,
    type: oneOf(['A', 'AAAA'] as const),
    qname: nullable(hostname),
    rcode: nullable(rcode),
    answers: arr(ip, 256),
    cnames: arr(hostname, 32),
    ms,
    server: nullable(ip),
    queries: int(0, 64),
    tries: arr(
      obj({ qname: hostname, result: dnsTryResult, ms, server: ip }),
      32,
    ),
  },
  { err: errText },
);

const connectCheck: Check<ConnectResult> = obj(
  { proto: oneOf(['TCP', 'UDP'] as const), ip, port, status: oneOf(CONNECT_STATUSES), ms },
  { err: errText },
);

const endpointCheck: Check<EndpointResult> = obj({ ip, port, status: oneOf(CONNECT_STATUSES), ms }, { err: errText });

const endpointsCheck: Check<EndpointsResult> = (value, path) => {
  const result = obj({ total: int(0, PROBE_MAX_ENDPOINTS), ok: int(0, PROBE_MAX_ENDPOINTS), items: arr(endpointCheck, PROBE_MAX_ENDPOINTS) })(value, path);
  if (result.ok > result.total) throw new SchemaError(`${path}.ok`, `ok ${result.ok} exceeds total ${result.total}`);
  if (result.items.length > result.total) throw new SchemaError(`${path}.items`, `${result.items.length} items exceed total ${result.total}`);
  return result;
};

const httpCheck: Check<HttpResult> = obj(
  {
    method: oneOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const),
    status: oneOf(HTTP_STATUSES),
    code: nullable(int(100, 599)),
    curlExit: nullable(int(0, 255)),
    ms: nullable(obj({ dns: ms, connect: ms, tls: ms, ttfb: ms, total: ms })),
  },
  { url: str({ max: 300, min: 1, pattern: /^https?:\/\//, what: 'an http(s) URL' }), err: errText },
);

const icmpCheck: Check<IcmpResult> = (value, path) => {
  const result = obj(
    {
      ip,
      status: oneOf(ICMP_STATUSES),
      sent: int(0, 1000),
      received: int(0, 1000),
      lossPct: num(0, 100),
      rtt: nullable(obj({ min: num(0, MAX_MS), avg: num(0, MAX_MS), max: num(0, MAX_MS) })),
    },
    { err: errText },
  )(value, path);
  if (result.received > result.sent) throw new SchemaError(`${path}.received`, `received ${result.received} exceeds sent ${result.sent}`);
  return result;
};

const mtuCheck: Check<MtuResult> = obj(
  {
    ip,
    status: oneOf(MTU_STATUSES),
    iface: nullable(str({ max: 15, min: 1, pattern: /^[^\s/]+$/, what: 'an interface name' })),
    local: nullable(mtuBytes),
    path: nullable(mtuBytes),
    fragNeeded: bool,
    largestOk: nullable(mtuBytes),
    smallestLost: nullable(mtuBytes),
    pings: int(0, 100),
  },
  { err: errText },
);

const nodeCheck: Check<NodeResult> = obj(
  {
    ipForward: nullable(zeroOrOne),
    bridgeNfCallIptables: nullable(zeroOrOne),
    conntrackCount: nullable(count),
    conntrackMax: nullable(count),
    proxyMode: oneOf(PROXY_MODES),
  },
  {
    svc: obj({ ip, rules: int(0, 10_000), chains: arr(chainName, 64), endpoints: int(0, 100_000), rejectRules: int(0, 10_000) }),
    err: errText,
  },
);

const probeResultCheck: Check<ProbeResult> = obj(
  {
    v: oneOf([PROBE_RESULT_SCHEMA_VERSION] as const),
    status: oneOf(PROBE_RUN_STATUSES),
    mode: nullable(oneOf(PROBE_MODES)),
    proto: nullable(oneOf(PROBE_PROTOCOLS)),
    target: targetCheck,
    startedAt: timestamp,
    ms,
    truncated: bool,
    errors: arr(probeErrorCheck, 64),
  },
  {
    resolv: resolvCheck,
    dns: dnsCheck,
    connect: orSkipped(connectCheck),
    http: httpCheck,
    icmp: orSkipped(icmpCheck),
    endpoints: endpointsCheck,
    mtu: orSkipped(mtuCheck),
    node: nodeCheck,
    capture: obj({ status: oneOf(['ok', 'failed'] as const), bytes: count }, { packets: count, err: errText }),
  },
);

/** The first PROBE_OUTPUT_QUOTE_BYTES bytes of the input, JSON-quoted so control characters stay visible. */
export function quoteProbeOutput(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const head = bytes.subarray(0, PROBE_OUTPUT_QUOTE_BYTES).toString('utf8');
  return JSON.stringify(head) + (bytes.length > PROBE_OUTPUT_QUOTE_BYTES ? ` (first ${PROBE_OUTPUT_QUOTE_BYTES} of ${bytes.length} bytes)` : '');
}

function failure(reason: string, text: string): { ok: false; error: string } {
  return { ok: false, error: `${reason}; output begins ${quoteProbeOutput(text)}` };
}

/**
 * Parses and strictly validates a probe result document (the termination message text).
 * On failure the error names the problem and the JSON path, and quotes the first 200 bytes of input.
 */
export function parseProbeResult(text: string): ParseProbeResult {
  if (typeof text !== 'string' || text.trim() === '') return failure('empty probe output', typeof text === 'string' ? text : '');
  const size = Buffer.byteLength(text, 'utf8');
  if (size > PROBE_RESULT_MAX_BYTES) {
    return failure(`probe output is ${size} bytes, more than the ${PROBE_RESULT_MAX_BYTES} a termination message holds`, text);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return failure(`probe output is not JSON (${(error as Error).message})`, text);
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const version = (parsed as { v?: unknown }).v;
    if (version !== PROBE_RESULT_SCHEMA_VERSION) {
      return failure(`unsupported probe result version ${JSON.stringify(version) ?? 'undefined'} (this operator reads v${PROBE_RESULT_SCHEMA_VERSION})`, text);
    }
  }
  try {
    return { ok: true, result: probeResultCheck(parsed, '$') };
  } catch (error) {
    if (error instanceof SchemaError) return failure(`invalid probe result at ${error.path}: ${error.message}`, text);
    throw error;
  }
}
