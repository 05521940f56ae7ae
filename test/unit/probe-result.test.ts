import { expect } from 'chai';
import {
  PROBE_OUTPUT_QUOTE_BYTES,
  PROBE_RESULT_MAX_BYTES,
  PROBE_RESULT_SCHEMA_VERSION,
  parseProbeResult,
  probeRunBudgetSeconds,
  quoteProbeOutput,
  type ProbeResult,
} from '../../operator/probe/result.ts';

/** A document with every section, as the probe program writes it. */
function fullDocument(): ProbeResult {
  return {
    v: 1,
    status: 'done',
    mode: 'node',
    proto: 'HTTPS',
    target: { host: 'web.default.svc.cluster.local', ip: '10.96.0.20', port: 443 },
    startedAt: '2025-06-01T12:00:00Z',
    ms: 1234,
    truncated: false,
    resolv: { ns: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, timeout: 5, attempts: 2 },
    dns: {
      status: 'ok',
      name: 'web',
      type: 'A',
      qname: 'web.default.svc.cluster.local.',
      rcode: 'NOERROR',
      answers: ['10.96.0.20'],
      cnames: [],
      ms: 3,
      server: '10.96.0.10',
      queries: 1,
      tries: [{ qname: 'web.default.svc.cluster.local.', result: 'NOERROR', ms: 3, server: '10.96.0.10' }],
    },
    connect: { proto: 'TCP', ip: '10.96.0.20', port: 443, status: 'ok', ms: 1 },
    http: {
      url: 'https://web:443/healthz',
      method: 'GET',
      status: 'tlsError',
      code: null,
      curlExit: 60,
      ms: { dns: 0, connect: 1, tls: 0, ttfb: 0, total: 4 },
      err: 'SSL certificate problem: self-signed certificate',
    },
    icmp: { ip: '10.96.0.20', status: 'loss', sent: 3, received: 0, lossPct: 100, rtt: null },
    endpoints: {
      total: 2,
      ok: 1,
      items: [
        { ip: '10.244.1.5', port: 8443, status: 'ok', ms: 0 },
        { ip: '10.244.2.7', port: 8443, status: 'timeout', ms: 5001, err: 'no answer to SYN' },
      ],
    },
    mtu: { ip: '10.244.2.7', status: 'blackhole', iface: 'eth0', local: 1500, path: 1450, fragNeeded: false, largestOk: 1450, smallestLost: 1451, pings: 12 },
    node: {
      ipForward: 0,
      bridgeNfCallIptables: 1,
      conntrackCount: 120,
      conntrackMax: 262144,
      proxyMode: 'iptables',
      svc: { ip: '10.96.0.20', rules: 1, chains: ['KUBE-SVC-ABCDEF0123456789'], endpoints: 2, rejectRules: 0 },
    },
    errors: [{ code: 'UnknownParameter', param: 'NETCHECK_FOO', msg: 'unknown parameter ignored' }],
  };
}

function parseFailure(text: string): string {
  const parsed = parseProbeResult(text);
  expect(parsed.ok, `expected a failure for ${text.slice(0, 80)}`).to.equal(false);
  return (parsed as { error: string }).error;
}

/** A copy of the full document with one change applied. */
function mutated(change: (doc: Record<string, any>) => void): string {
  const doc = structuredClone(fullDocument()) as Record<string, any>;
  change(doc);
  return JSON.stringify(doc);
}

describe('probe result document (result.ts)', function () {
  it('exports schema version 1 and the 4096-byte bound', () => {
    expect(PROBE_RESULT_SCHEMA_VERSION).to.equal(1);
    expect(PROBE_RESULT_MAX_BYTES).to.equal(4096);
    expect(probeRunBudgetSeconds(5)).to.equal(50);
  });

  it('accepts a full document and returns it unchanged', () => {
    const doc = fullDocument();
    const parsed = parseProbeResult(JSON.stringify(doc));
    expect(parsed).to.deep.equal({ ok: true, result: doc });
  });

  it('accepts a minimal invalidInput document (null mode and protocol, no sections)', () => {
    const text = JSON.stringify({
      v: 1, status: 'invalidInput', mode: null, proto: null, target: {}, startedAt: '2025-06-01T12:00:00Z', ms: 5, truncated: false,
      errors: [{ code: 'InvalidParameter', param: 'NETCHECK_PORT', msg: 'must be an integer 1-65535' }],
    });
    const parsed = parseProbeResult(text);
    expect(parsed.ok).to.equal(true);
  });

  it('accepts skipped destination probes', () => {
    const text = mutated((d) => {
      d.connect = { status: 'skipped', err: 'no destination address (DNS lookup failed)' };
      d.icmp = { status: 'skipped' };
      d.mtu = { status: 'skipped' };
    });
    expect(parseProbeResult(text).ok).to.equal(true);
  });

  describe('refuses', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['empty output', '', /empty probe output/],
      ['whitespace only', '  \n', /empty probe output/],
      ['non-JSON text', 'bash: jq: command not found', /not JSON/],
      ['truncated JSON (a termination message cut by the kubelet)', JSON.stringify(fullDocument()).slice(0, 300), /not JSON/],
      ['a JSON array', '[1,2]', /at \$: expected an object/],
      ['a missing version', mutated((d) => delete d.v), /unsupported probe result version undefined/],
      ['an unknown version', mutated((d) => (d.v = 2)), /unsupported probe result version 2 \(this operator reads v1\)/],
      ['a version given as a string', mutated((d) => (d.v = '1')), /unsupported probe result version "1"/],
      ['an unknown top-level field', mutated((d) => (d.extra = true)), /at \$\.extra: unknown field/],
      ['an unknown nested field', mutated((d) => (d.dns.extra = 1)), /at \$\.dns\.extra: unknown field/],
      ['a missing required field', mutated((d) => delete d.truncated), /at \$\.truncated: missing required field/],
      ['a missing nested field', mutated((d) => delete d.connect.ms), /at \$\.connect\.ms: missing required field/],
      ['a number given as a string', mutated((d) => (d.ms = '12')), /at \$\.ms: expected an integer/],
      ['a fractional integer field', mutated((d) => (d.connect.ms = 1.5)), /at \$\.connect\.ms: expected an integer/],
      ['a negative latency', mutated((d) => (d.connect.ms = -1)), /at \$\.connect\.ms: -1 outside 0\.\.3600000/],
      ['a port out of range', mutated((d) => (d.target.port = 70000)), /at \$\.target\.port: 70000 outside 1\.\.65535/],
      ['an unknown run status', mutated((d) => (d.status = 'ok')), /at \$\.status: expected one of "done", "invalidInput"/],
      ['an unknown connect status', mutated((d) => (d.connect.status = 'filtered')), /at \$\.connect\.status: expected one of/],
      ['an unknown DNS status', mutated((d) => (d.dns.status = 'weird')), /at \$\.dns\.status/],
      ['an unknown protocol', mutated((d) => (d.proto = 'SCTP')), /at \$\.proto/],
      ['an unknown error code', mutated((d) => (d.errors[0].code = 'Oops')), /at \$\.errors\[0\]\.code/],
      ['a bad parameter name', mutated((d) => (d.errors[0].param = 'X;rm -rf /')), /at \$\.errors\[0\]\.param: expected a parameter name/],
      ['an address that is not an IP', mutated((d) => (d.connect.ip = '10.0.0.300')), /at \$\.connect\.ip: expected an IP address/],
      ['a DNS answer that is not an IP', mutated((d) => (d.dns.answers = ['example.com'])), /at \$\.dns\.answers\[0\]: expected an IP address/],
      ['a name with a shell metacharacter', mutated((d) => (d.dns.name = 'a;b')), /at \$\.dns\.name: expected a DNS name/],
      ['loss over 100 %', mutated((d) => (d.icmp.lossPct = 101)), /at \$\.icmp\.lossPct: 101 outside 0\.\.100/],
      ['more replies than pings', mutated((d) => Object.assign(d.icmp, { sent: 1, received: 2, lossPct: 0 })), /at \$\.icmp\.received: received 2 exceeds sent 1/],
      ['more healthy endpoints than endpoints', mutated((d) => (d.endpoints.ok = 3)), /at \$\.endpoints\.ok: ok 3 exceeds total 2/],
      ['an HTTP code out of range', mutated((d) => (d.http.code = 999)), /at \$\.http\.code: 999 outside 100\.\.599/],
      ['an MTU below the IPv4 minimum', mutated((d) => (d.mtu.path = 40)), /at \$\.mtu\.path: 40 outside 68\.\.65536/],
      ['ip_forward other than 0/1', mutated((d) => (d.node.ipForward = 2)), /at \$\.node\.ipForward: expected one of 0, 1/],
      ['a chain that is not KUBE-*', mutated((d) => (d.node.svc.chains = ['ACCEPT'])), /at \$\.node\.svc\.chains\[0\]/],
      ['a bad timestamp', mutated((d) => (d.startedAt = 'yesterday')), /at \$\.startedAt: expected a UTC timestamp/],
      ['an overlong error text', mutated((d) => (d.http.err = 'x'.repeat(257))), /at \$\.http\.err: string length 257 outside 0\.\.256/],
      ['a skipped form with extra fields', mutated((d) => (d.connect = { status: 'skipped', ip: '10.0.0.1' })), /at \$\.connect\.ip: unknown field/],
      ['null where an object is required', mutated((d) => (d.target = null)), /at \$\.target: expected an object, got null/],
      ['more endpoints than the probe accepts', mutated((d) => (d.endpoints.total = 65)), /at \$\.endpoints\.total: 65 outside 0\.\.64/],
      ['more endpoint items than endpoints', mutated((d) => Object.assign(d.endpoints, { total: 1, ok: 1 })), /at \$\.endpoints\.items: 2 items exceed total 1/],
    ];
    for (const [what, text, expected] of cases) {
      it(what, () => {
        const error = parseFailure(text);
        expect(error).to.match(expected);
        expect(error).to.include(`output begins ${quoteProbeOutput(text)}`);
      });
    }
  });

  describe('the 4096-byte bound', () => {
    const base = JSON.stringify(fullDocument());

    it('accepts a document of exactly 4096 bytes', () => {
      const text = base + ' '.repeat(PROBE_RESULT_MAX_BYTES - Buffer.byteLength(base));
      expect(Buffer.byteLength(text)).to.equal(4096);
      expect(parseProbeResult(text).ok).to.equal(true);
    });

    it('refuses 4097 bytes, even when the JSON is valid', () => {
      const text = base + ' '.repeat(PROBE_RESULT_MAX_BYTES + 1 - Buffer.byteLength(base));
      expect(parseFailure(text)).to.match(/probe output is 4097 bytes, more than the 4096/);
    });

    it('counts bytes, not characters', () => {
      // 'é' is two bytes in UTF-8: the text is under 4096 characters but over 4096 bytes.
      const padding = 'é'.repeat(Math.ceil((PROBE_RESULT_MAX_BYTES - base.length) / 2) + 1);
      const text = base + padding;
      expect(text.length).to.be.at.most(PROBE_RESULT_MAX_BYTES);
      expect(parseFailure(text)).to.match(/bytes, more than the 4096/);
    });
  });

  describe('quoting the bad input', () => {
    it('quotes exactly the first 200 bytes, JSON-escaped, and says how long the input was', () => {
      const text = 'E'.repeat(150) + '\n' + 'Z'.repeat(300);
      const error = parseFailure(text);
      const head = text.slice(0, PROBE_OUTPUT_QUOTE_BYTES);
      expect(error).to.include(`output begins ${JSON.stringify(head)} (first 200 of 451 bytes)`);
      expect(error).to.include('\\n'); // the newline is visible, not raw
      expect(error).to.not.include('Z'.repeat(51));
    });

    it('quotes a short input whole', () => {
      expect(parseFailure('oops')).to.equal('probe output is not JSON (Unexpected token \'o\', "oops" is not valid JSON); output begins "oops"');
    });

    it('cuts at 200 bytes even inside a multi-byte character', () => {
      const text = 'x'.repeat(199) + '€€€';
      const quoted = quoteProbeOutput(text);
      expect(quoted).to.match(/^"x{199}\uFFFD"/);
      expect(quoted).to.include('(first 200 of 208 bytes)');
    });
  });
});
