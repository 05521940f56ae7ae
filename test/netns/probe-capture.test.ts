// The probe program's packet capture (spec.capture) against real faults in network namespaces:
// the argv comes from the operator's own builder, the pcap from the program's stdout (as the operator
// reads it from the pod log), and the operator's analysis names the fault.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { analyzeCapture, summarizeCapture } from '../../operator/capture/analyze.ts';
import { pcapFromLog, sourceCaptureEnvironment, sourceCaptureTarget } from '../../operator/probe/capture.ts';
import { runProbe, useRoutedLab, type NetnsLab, type RoutedTopology } from '../support/netns.ts';

const PORT = 8080;

describe('probe program: packet capture alongside the probes (netns)', function () {
  this.timeout(60_000);
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf('nameserver 10.250.2.53\n');
  });

  const check = (capture: NonNullable<NetworkCheck['spec']['capture']>): NetworkCheck => ({
    apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck', metadata: { name: 'c', namespace: 'team' },
    spec: { source: { pod: 'web' }, destination: { ip: net.serverIp, port: PORT }, protocol: 'TCP', timeoutSeconds: 2, capture },
  } as NetworkCheck);

  /** Runs the probe with the capture environment the operator builds for this spec. */
  async function probeWithCapture(capture: NonNullable<NetworkCheck['spec']['capture']> = { when: 'Always' }) {
    const spec = withDefaults(check(capture));
    const probeEnv = [
      { name: 'NETCHECK_PROTOCOL', value: 'TCP' }, { name: 'NETCHECK_TARGET_IP', value: net.serverIp },
      { name: 'NETCHECK_PORT', value: String(PORT) }, { name: 'NETCHECK_TIMEOUT', value: '2' },
    ];
    const built = sourceCaptureEnvironment(spec, probeEnv);
    if (!built.ok) throw new Error(built.error);
    const env = Object.fromEntries([...probeEnv, ...built.env].map((e) => [e.name, e.value]));
    const { run, result } = await runProbe(net.client, env);
    const found = pcapFromLog(run.stdout);
    return { run, result, found, target: sourceCaptureTarget(spec, probeEnv) };
  }

  it('a dropped SYN: the pcap on stdout holds SYNs and no SYN-ACK, and the analysis says NoSynAck', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    await net.server.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    const { result, found, target } = await probeWithCapture();
    expect(result.capture?.status, JSON.stringify(result.capture)).to.equal('ok');
    expect(found.state).to.equal('Found');
    if (found.state !== 'Found') return;
    expect(result.capture!.bytes).to.equal(found.pcap.byteLength);
    const summary = summarizeCapture(analyzeCapture(found.pcap, { point: 'source', target }));
    expect(summary.reason).to.equal('NoSynAck');
    expect(summary.tcp!.syn).to.be.at.least(2); // the first SYN and at least one retransmission in 2 s
    expect(summary.tcp!.synAck).to.equal(0);
  });

  it('a refused port: the capture shows the RST, and the analysis says ConnectionReset', async () => {
    const { found, target } = await probeWithCapture();
    expect(found.state).to.equal('Found');
    if (found.state !== 'Found') return;
    const summary = summarizeCapture(analyzeCapture(found.pcap, { point: 'source', target }));
    expect(summary.reason).to.equal('ConnectionReset');
    expect(summary.tcp!.rst).to.be.at.least(1);
  });

  it('a healthy connection: the handshake is in the capture, and maxPackets bounds it', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    const { result, found, target } = await probeWithCapture({ when: 'Always', maxPackets: 3 });
    expect(found.state).to.equal('Found');
    if (found.state !== 'Found') return;
    const analysis = analyzeCapture(found.pcap, { point: 'source', target });
    expect(analysis.packets.total).to.equal(3);
    expect(result.capture!.packets).to.equal(3);
    expect(analysis.tcpFlows.some((flow) => flow.synAcks > 0)).to.equal(true);
  });

  it('refuses a capture argv with anything but the allowed options: nothing runs, nothing is written', async () => {
    const marker = join(lab.tempDir(), 'PWNED');
    for (const argv of [
      ['-i', 'any', '-z', `touch ${marker}`, '--', 'tcp'],
      ['-i', 'any', '-w', marker, '--', 'tcp'],
      ['-i', 'any', '--', `tcp and $(touch ${marker})`],
      ['-i', 'any', '-nn'],
    ]) {
      const { run, result } = await runProbe(net.client, {
        NETCHECK_PROTOCOL: 'TCP', NETCHECK_TARGET_IP: net.serverIp, NETCHECK_PORT: String(PORT), NETCHECK_TIMEOUT: '1',
        NETCHECK_CAPTURE_ARGV: argv.join('\n'),
      });
      expect(result.status, argv.join(' ')).to.equal('invalidInput');
      expect(result.errors.map((e) => e.param)).to.include('NETCHECK_CAPTURE_ARGV');
      expect(pcapFromLog(run.stdout).state).to.equal('Absent');
    }
    expect(existsSync(marker)).to.equal(false);
  });
});
