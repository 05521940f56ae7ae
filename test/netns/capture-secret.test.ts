// A real capture goes into the Secret manifest, and the documented extraction command,
// run by a real shell with a real kubectl, gives back a file tcpdump -r opens.
// kubectl runs offline (`label --local -f secret.json`), so only the `kubectl get secret NAME
// -n NS` part of the command is swapped; the jsonpath, quoting and pipeline run verbatim.

import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../operator/capture/analyze.ts';
import { readPcap } from '../../operator/capture/pcap.ts';
import { buildCaptureSecret } from '../../operator/capture/secret.ts';
import { RoutedTopology, run } from './capture-topology.ts';

/** The kubectl built for the local cluster (test/cluster), or $KUBECTL. */
function findKubectl(): string {
  if (process.env.KUBECTL) return process.env.KUBECTL;
  const cache = join(homedir(), '.cache', 'netcheck-operator');
  const builds = existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith('k8s-')).sort() : [];
  for (const build of builds.reverse()) {
    const candidate = join(cache, build, 'bin', 'kubectl');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('no kubectl: run test/cluster/build-k8s.sh or set KUBECTL');
}

describe('capture Secret extraction with a real capture (netns)', function () {
  let topology: RoutedTopology;
  before(async function () {
    topology = await RoutedTopology.create();
    await topology.tcpSink(9090);
  });
  after(async function () {
    await topology?.destroy();
  });

  it('round-trips through the Secret and the copy-paste command into a file tcpdump -r opens', async function () {
    const capture = await topology.capture(topology.client, 'extract', {
      interface: topology.clientIf,
      filter: { protocol: 'TCP', destinationIps: [topology.serverIp], destinationPort: 9090 },
    });
    await topology.exec(topology.client, ['socat', '-u', 'EXEC:echo capture-me', `TCP4:${topology.serverIp}:9090`]);
    const pcap = await capture.stop();

    const built = buildCaptureSecret({
      check: { name: 'web-reachability', namespace: 'team-a', uid: '3f1c2a9e-0000-4000-8000-000000000001' },
      runId: '20261121-0815',
      point: 'source',
      pcap,
    });
    expect(built.truncated).to.equal(false);
    expect(built.extractCommand).to.equal(
      "kubectl get secret web-reachability-cap-20261121-0815-src -n team-a -o jsonpath='{.data.capture\\.pcap}' | base64 -d > capture.pcap",
    );

    const secretFile = join(topology.workDir, 'secret.json');
    await writeFile(secretFile, JSON.stringify(built.secret));
    const prefix = `kubectl get secret ${built.name} -n team-a `;
    expect(built.extractCommand.startsWith(prefix)).to.equal(true);
    const offline = `${findKubectl()} label --local -f ${secretFile} netcheck.dev/extract-test=1 `;
    const command = offline + built.extractCommand.slice(prefix.length);
    await run(['sh', '-c', `cd ${topology.workDir} && ${command}`]);

    const extracted = await readFile(join(topology.workDir, 'capture.pcap'));
    expect(Buffer.compare(extracted, pcap)).to.equal(0);
    const listing = await run(['tcpdump', '-nn', '-r', join(topology.workDir, 'capture.pcap')]);
    const lines = listing.stdout.split('\n').filter((line) => line.length > 0);
    expect(lines.length).to.equal(readPcap(extracted).packets.length);
    expect(lines.some((line) => line.includes('Flags [S]') && line.includes('10.213.2.2.9090'))).to.equal(true);
    const analysis = analyzeCapture(extracted, { point: 'source', target: { serverIps: [topology.serverIp], serverPort: 9090 } });
    expect(analysis.verdict.reason).to.equal('Healthy');
  });
});
