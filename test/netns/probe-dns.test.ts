// The probe program's DNS probe against a real dnsmasq in a namespace: answers, search-path
// expansion (counted queries), NXDOMAIN, SERVFAIL from a failing upstream, and a silent server.
import { expect } from 'chai';
import {
  NetnsLab,
  runProbe,
  useRoutedLab,
  type RoutedTopology,
} from '../support/netns.ts';
import type { DnsResult } from '../../operator/probe/result.ts';

const TIMEOUT_S = 2;
const ZONE = 'nct.test';
const SEARCH = [`ns1.svc.${ZONE}`, `svc.${ZONE}`, ZONE];
const UPSTREAM_PORT = 5300;

function dnsOf(section: unknown): DnsResult {
  expect(section, 'dns section').to.be.an('object');
  return section as DnsResult;
}

describe('probe program: DNS (netns, dnsmasq)', function () {
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    // A Kubernetes-like resolv.conf: the cluster DNS on the server, three search domains, ndots:5.
    net.client.setResolvConf(`nameserver ${net.serverIp}\nsearch ${SEARCH.join(' ')}\noptions ndots:5\n`);
    // A failing upstream for broken.test: answers every query with SERVFAIL.
    await net.server.startDnsRcodeResponder('127.0.0.1', UPSTREAM_PORT, 2);
    await net.server.startDnsmasq(net.serverIp, [
      `--local=/${ZONE}/`, // authoritative for the zone: unknown names are NXDOMAIN
      `--address=/web.svc.${ZONE}/${net.serverIp}`,
      `--server=/broken.test/127.0.0.1#${UPSTREAM_PORT}`,
    ]);
  });

  const lookup = (host: string, extra: Record<string, string> = {}) =>
    runProbe(net.client, { NETCHECK_PROTOCOL: 'DNS', NETCHECK_HOST: host, NETCHECK_TIMEOUT: String(TIMEOUT_S), ...extra });

  it('resolves a short name through the search list, counting the queries it took', async () => {
    const { run, result } = await lookup('web');
    expect(run.exitCode).to.equal(0);
    expect(result.resolv).to.deep.include({ ns: [net.serverIp], search: SEARCH, ndots: 5 });
    const dns = dnsOf(result.dns);
    expect(dns).to.deep.include({
      status: 'ok',
      rcode: 'NOERROR',
      name: 'web',
      qname: `web.svc.${ZONE}.`,
      answers: [net.serverIp],
      server: net.serverIp,
      queries: 2, // web.ns1.svc.nct.test (NXDOMAIN), then web.svc.nct.test
    });
    expect(dns.tries.map((t) => [t.qname, t.result])).to.deep.equal([
      [`web.ns1.svc.${ZONE}.`, 'NXDOMAIN'],
      [`web.svc.${ZONE}.`, 'NOERROR'],
    ]);
    expect(result.connect, 'protocol DNS only resolves').to.equal(undefined);
  });

  it('NXDOMAIN: a missing name with fewer than ndots dots costs one query per search domain plus one', async () => {
    const { result } = await lookup(`missing.${ZONE}`);
    const dns = dnsOf(result.dns);
    expect(dns).to.deep.include({ status: 'nxdomain', rcode: 'NXDOMAIN', answers: [], queries: SEARCH.length + 1 });
    expect(dns.qname).to.equal(`missing.${ZONE}.`); // the name as is comes last
    expect(dns.server).to.equal(net.serverIp);
  });

  it('an absolute name (trailing dot) is looked up once', async () => {
    const { result } = await lookup(`missing.${ZONE}.`);
    expect(dnsOf(result.dns)).to.deep.include({ status: 'nxdomain', queries: 1 });
  });

  it('SERVFAIL: the cluster DNS forwards to an upstream that fails', async () => {
    const { result } = await lookup('www.broken.test.');
    const dns = dnsOf(result.dns);
    expect(dns).to.deep.include({ status: 'servfail', rcode: 'SERVFAIL', answers: [], server: net.serverIp, queries: 1 });
  });

  it('a DNS server that does not answer (UDP and TCP 53 dropped) gives timeout, no server, one query', async () => {
    await net.server.iptables(['-A', 'INPUT', '-p', 'udp', '--dport', '53', '-j', 'DROP']);
    await net.server.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '53', '-j', 'DROP']);
    const { result } = await lookup('web');
    const dns = dnsOf(result.dns);
    // The C library stops searching at a timeout: the first candidate is the only query.
    expect(dns).to.deep.include({ status: 'timeout', rcode: null, server: null, queries: 1, answers: [] });
    expect(dns.ms).to.be.within(TIMEOUT_S * 1000 - 100, TIMEOUT_S * 1000 + 1000);
  });

  it('TCP to a name: connects to the address the lookup returned', async () => {
    await net.server.startTcpListener(net.serverIp, 8080);
    const { result } = await runProbe(net.client, { NETCHECK_PROTOCOL: 'TCP', NETCHECK_HOST: 'web', NETCHECK_PORT: '8080', NETCHECK_TIMEOUT: String(TIMEOUT_S) });
    expect(dnsOf(result.dns).status).to.equal('ok');
    expect(result.connect).to.deep.include({ status: 'ok', ip: net.serverIp, port: 8080 });
    expect(result.target).to.deep.equal({ host: 'web', port: 8080 });
  });

  it('TCP to a name that does not resolve: connect is skipped, not guessed', async () => {
    const { result } = await runProbe(net.client, { NETCHECK_PROTOCOL: 'TCP', NETCHECK_HOST: `nothere.${ZONE}`, NETCHECK_PORT: '8080', NETCHECK_TIMEOUT: String(TIMEOUT_S) });
    expect(dnsOf(result.dns).status).to.equal('nxdomain');
    expect(result.connect).to.deep.include({ status: 'skipped' });
  });
});
