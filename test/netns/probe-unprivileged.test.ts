// The probe program as Pod Security "restricted" runs it: a non-root user (65532) with no
// capabilities at all (empty bounding set), no_new_privs, and net.ipv4.ping_group_range set in its
// network namespace, as the probe pod's securityContext sets it. ping and the DF path-MTU pings must
// work through unprivileged ICMP sockets (the host's ping carries cap_net_raw=ep like the probe
// image's, which such a process cannot even execute), and without the sysctl the ICMP steps must be
// reported as not run, with the reason, while the TCP probe still runs.
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProbeResult, type IcmpResult, type MtuResult, type ProbeResult, type SkippedProbe } from '../../operator/probe/result.ts';
import { PROBE_SCRIPT, useRoutedLab, type NetnsLab, type RoutedTopology } from '../support/netns.ts';

const PROBE_UID = '65532';
const PORT = 8080;
const LOWERED_MTU = 1400;

describe('probe program: unprivileged, as under Pod Security restricted (netns)', function () {
  this.timeout(60_000);
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf(`nameserver ${net.serverIp}\n`);
    await net.server.startTcpListener(net.serverIp, PORT);
  });

  /** Runs the program as uid/gid 65532 without any capability, as a restricted probe pod does. */
  async function probeUnprivileged(env: Record<string, string>): Promise<{ result: ProbeResult; stderr: string }> {
    const dir = lab.tempDir();
    chmodSync(dir, 0o777);
    const resultFile = join(dir, 'result.json');
    const run = await net.client.exec('setpriv', [
      `--reuid=${PROBE_UID}`, `--regid=${PROBE_UID}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs',
      'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NETCHECK_RESULT_FILE=${resultFile}`,
      ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
      'bash', PROBE_SCRIPT,
    ], { timeoutMs: 60_000 });
    const parsed = parseProbeResult(existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : '');
    if (!parsed.ok) throw new Error(`probe result did not parse: ${parsed.error}\nexit ${run.code}\nstderr: ${run.stderr}`);
    return { result: parsed.result, stderr: run.stderr };
  }

  const allowPingGroup = () => net.client.sysctl('net.ipv4.ping_group_range', `${PROBE_UID} ${PROBE_UID}`);
  const tcp = () => ({ NETCHECK_PROTOCOL: 'TCP', NETCHECK_TARGET_IP: net.serverIp, NETCHECK_PORT: String(PORT), NETCHECK_TIMEOUT: '2', NETCHECK_MTU_CHECK: '1' });
  const icmp = () => ({ NETCHECK_PROTOCOL: 'ICMP', NETCHECK_TARGET_IP: net.serverIp, NETCHECK_TIMEOUT: '2' });
  const skipped = (section: unknown): SkippedProbe => {
    expect(section, 'section').to.be.an('object');
    expect((section as { status: string }).status, JSON.stringify(section)).to.equal('skipped');
    return section as SkippedProbe;
  };

  it('pings through an unprivileged ICMP socket once the group is in net.ipv4.ping_group_range', async () => {
    await allowPingGroup();
    const { result } = await probeUnprivileged(icmp());
    expect(result.icmp as IcmpResult, JSON.stringify(result.icmp)).to.deep.include({ ip: net.serverIp, status: 'ok', sent: 3, received: 3 });
  });

  it('without the sysctl (and without NET_RAW) reports ICMP as not run, with the reason', async () => {
    expect(await net.client.readSysctl('net.ipv4.ping_group_range')).to.match(/^1\s+0$/);
    const { result } = await probeUnprivileged(icmp());
    expect(skipped(result.icmp).err).to.equal(`ICMP unavailable: no CAP_NET_RAW, and no group of the probe (${PROBE_UID}) is in net.ipv4.ping_group_range (1 0)`);
  });

  it('measures a clean path MTU with unprivileged DF pings', async () => {
    await allowPingGroup();
    const { result } = await probeUnprivileged(tcp());
    expect(result.connect).to.deep.include({ status: 'ok' });
    expect(result.mtu as MtuResult, JSON.stringify(result.mtu)).to.deep.include({ status: 'ok', local: 1500, path: 1500, fragNeeded: false });
  });

  it('finds a lowered MTU from the router\'s frag-needed through an unprivileged ICMP socket', async () => {
    await allowPingGroup();
    await net.router.setMtu('r1', LOWERED_MTU);
    await net.server.setMtu('eth0', LOWERED_MTU);
    const { result } = await probeUnprivileged(tcp());
    expect(result.mtu as MtuResult, JSON.stringify(result.mtu)).to.deep.include({ status: 'fragNeeded', local: 1500, path: LOWERED_MTU, fragNeeded: true });
  });

  it('finds a PMTU black hole (frag-needed dropped) unprivileged, by bisection', async () => {
    await allowPingGroup();
    await net.router.setMtu('r1', LOWERED_MTU);
    await net.server.setMtu('eth0', LOWERED_MTU);
    await net.router.iptables(['-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
    const { result } = await probeUnprivileged(tcp());
    expect(result.mtu as MtuResult, JSON.stringify(result.mtu)).to.deep.include({ status: 'blackhole', path: LOWERED_MTU, largestOk: LOWERED_MTU, smallestLost: LOWERED_MTU + 1 });
  });

  it('degrades per layer when the operator had to drop the sysctl: MTU not run with that reason, TCP still probed', async () => {
    await allowPingGroup(); // the program must not try ICMP even where the kernel would allow it
    const { result } = await probeUnprivileged({ ...tcp(), NETCHECK_ICMP_BLOCKED: 'SysctlRefused' });
    expect(result.status).to.equal('done');
    expect(result.connect).to.deep.include({ status: 'ok' });
    expect(skipped(result.mtu).err).to.equal("ICMP unavailable: the cluster refused the probe pod's net.ipv4.ping_group_range sysctl, which unprivileged ping needs");
  });

  it('refuses an unknown NETCHECK_ICMP_BLOCKED value', async () => {
    const { result } = await probeUnprivileged({ ...icmp(), NETCHECK_ICMP_BLOCKED: 'x; touch /tmp/pwned' });
    expect(result.status).to.equal('invalidInput');
    expect(result.errors.map((e) => e.param)).to.include('NETCHECK_ICMP_BLOCKED');
  });

  it('cannot capture without root and NET_RAW: tcpdump fails and the capture is reported failed', async () => {
    const { result } = await probeUnprivileged({ ...tcp(), NETCHECK_MTU_CHECK: '0', NETCHECK_CAPTURE_ARGV: ['-i', 'any', '-nn', '--', 'tcp'].join('\n') });
    expect(result.connect).to.deep.include({ status: 'ok' });
    expect(result.capture?.status, JSON.stringify(result.capture)).to.equal('failed');
    expect(result.capture?.err).to.match(/permission|not permitted/i);
  });
});
