// What the controller makes of a run's captures: keep or discard, status, Secrets, pruning; and the
// probe side's capture environment and log parsing. Pcaps are the real captures in test/fixtures/pcap.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { HistoryEntry, NetworkCheck } from '../../operator/api/types.generated.ts';
import { MAX_CAPTURED_RUNS_KEPT, planCapture, pruneCaptureSecrets } from '../../operator/controller/capture.ts';
import { readPcap } from '../../operator/capture/pcap.ts';
import {
  CAPTURE_LOG_BEGIN, CAPTURE_LOG_END, DESTINATION_CAPTURE_SCRIPT, buildDestinationCaptureContainer, destinationCaptureTargets, pcapFromLog, probeTargetsFromEnv,
  sourceCaptureEnvironment,
} from '../../operator/probe/capture.ts';
import type { CollectedCapture } from '../../operator/probe/stage.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url)));
const NOW = new Date('2026-11-21T10:00:00Z');

const check = (capture: NonNullable<NetworkCheck['spec']['capture']>): NetworkCheck => ({
  apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck',
  metadata: { name: 'web-to-backend', namespace: 'team', uid: '0b1c2d3e-0000-4000-8000-000000000001', generation: 1 },
  spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 80 }, protocol: 'TCP', capture },
} as NetworkCheck);

const target = { serverIps: ['10.213.2.2'], transport: 'tcp' as const };
const source = (pcap: string): CollectedCapture => ({ point: 'source', pod: 'web-to-backend-g1-x-0', target, pcap: fixture(pcap) });
const destination = (pcap: string): CollectedCapture => ({ point: 'destination', pod: 'backend-1', target, pcap: fixture(pcap) });

function plan(capture: NonNullable<NetworkCheck['spec']['capture']>, result: string, captures: CollectedCapture[], canStore = true) {
  const c = check(capture);
  return planCapture({ check: c, spec: withDefaults(c), runId: 'g1-abc', result, captures, now: NOW, canStore });
}

describe('capture plan for a finished run', () => {
  const table: { name: string; when: 'OnFailure' | 'Always'; result: string; canStore?: boolean; state: string; secrets: number }[] = [
    { name: 'OnFailure keeps an Unhealthy run', when: 'OnFailure', result: 'Unhealthy', state: 'Kept', secrets: 1 },
    { name: 'OnFailure keeps an Error run', when: 'OnFailure', result: 'Error', state: 'Kept', secrets: 1 },
    { name: 'OnFailure discards a Healthy run', when: 'OnFailure', result: 'Healthy', state: 'Discarded', secrets: 0 },
    { name: 'Always keeps a Healthy run', when: 'Always', result: 'Healthy', state: 'Kept', secrets: 1 },
    { name: 'without a store nothing is kept', when: 'Always', result: 'Unhealthy', canStore: false, state: 'Discarded', secrets: 0 },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { status, secrets } = plan({ when: row.when }, row.result, [source('syn-no-synack.pcap')], row.canStore);
      expect(status.state).to.equal(row.state);
      expect(secrets).to.have.length(row.secrets);
      expect(status.points![0]!.reason).to.equal('NoSynAck');
      expect(Boolean(status.points![0]!.secret)).to.equal(row.secrets > 0);
    });
  }

  it('names the Secret, its size and the extraction command, and owns the Secret by the check', () => {
    const { status, secrets } = plan({ when: 'Always' }, 'Unhealthy', [source('syn-no-synack.pcap')]);
    const point = status.points![0]!;
    const secret = secrets[0]!;
    expect(point.secret).to.equal(secret.metadata!.name);
    expect(point.extract).to.equal(`kubectl get secret ${point.secret} -n team -o jsonpath='{.data.capture\\.pcap}' | base64 -d > capture.pcap`);
    expect(secret.metadata!.ownerReferences![0]).to.include({ kind: 'NetworkCheck', name: 'web-to-backend', uid: '0b1c2d3e-0000-4000-8000-000000000001', controller: true });
    const stored = Buffer.from(secret.data!['capture.pcap']!, 'base64');
    expect(point.bytes).to.equal(stored.byteLength);
    expect(readPcap(new Uint8Array(stored)).packets.length).to.equal(point.packets);
    expect(point.tcp).to.deep.include({ synAck: 0 });
    expect(point.tcp!.syn).to.be.at.least(1);
    expect(status.conclusion).to.match(/^At the source: /);
  });

  it('with both ends captured, concludes which hop lost the exchange', () => {
    const { status } = plan({ when: 'Always' }, 'Unhealthy', [
      { ...source('synack-dropped-source.pcap'), target: { serverIps: ['10.213.2.2'], serverPort: 8083, transport: 'tcp' } },
      { ...destination('synack-dropped-destination.pcap'), target: { serverIps: ['10.213.2.2'], serverPort: 8083, transport: 'tcp' } },
    ]);
    expect(status.conclusion).to.match(/^ClientDidNotReceiveReply: /);
    expect(status.points!.map((p) => p.point)).to.deep.equal(['Source', 'Destination']);
  });

  it('a server that never saw the SYNs: ServerDidNotReceive', () => {
    const { status } = plan({ when: 'Always' }, 'Unhealthy', [
      { ...source('syn-dropped-by-router-source.pcap'), target: { serverIps: ['10.213.2.2'], serverPort: 8084, transport: 'tcp' } },
      { ...destination('syn-dropped-by-router-destination.pcap'), target: { serverIps: ['10.213.2.2'], serverPort: 8084, transport: 'tcp' } },
    ]);
    expect(status.conclusion).to.match(/^ServerDidNotReceive: /);
  });

  it('reports a point without a pcap, or with bytes that are not one, as CaptureFailed', () => {
    const { status, secrets } = plan({ when: 'Always' }, 'Unhealthy', [
      { point: 'source', pod: 'p', error: 'tcpdump: eth0: You don\'t have permission to capture on that device' },
      { point: 'destination', pod: 'q', pcap: new Uint8Array([1, 2, 3, 4]) },
    ]);
    expect(status.state).to.equal('Failed');
    expect(secrets).to.deep.equal([]);
    expect(status.points!.map((p) => p.reason)).to.deep.equal(['CaptureFailed', 'CaptureFailed']);
    expect(status.points![0]!.message).to.include('permission');
  });
});

describe('capture Secrets pruned with the history', () => {
  const entry = (time: string, captureSecrets?: string[]): HistoryEntry => ({ time, result: 'Unhealthy', ...(captureSecrets ? { captureSecrets } : {}) });

  it('deletes the Secrets of entries that left the history', () => {
    const previous = [entry('t2', ['s2']), entry('t1', ['s1'])];
    const next = [entry('t3', ['s3']), entry('t2', ['s2'])];
    expect(pruneCaptureSecrets(previous, next)).to.deep.equal({ history: next, deletions: ['s1'] });
  });

  it(`keeps the pcaps of the newest ${MAX_CAPTURED_RUNS_KEPT} captured runs only, and unlinks the rest`, () => {
    const next = Array.from({ length: 8 }, (_, i) => entry(`t${8 - i}`, i % 2 === 0 ? [`s${8 - i}-src`, `s${8 - i}-dst`] : undefined));
    const { history, deletions } = pruneCaptureSecrets(next, next);
    expect(history.filter((e) => e.captureSecrets).length).to.equal(4); // 4 captured runs in 8 entries: all kept
    const many = Array.from({ length: 7 }, (_, i) => entry(`t${7 - i}`, [`s${7 - i}`]));
    const pruned = pruneCaptureSecrets(many, many);
    expect(pruned.history.filter((e) => e.captureSecrets).map((e) => e.time)).to.deep.equal(['t7', 't6', 't5', 't4', 't3']);
    expect(pruned.deletions).to.deep.equal(['s1', 's2']);
    expect(deletions).to.deep.equal([]);
  });
});

describe('probe capture environment and log', () => {
  const probeEnv = [
    { name: 'NETCHECK_TARGET_IP', value: '10.96.0.20' }, { name: 'NETCHECK_PORT', value: '80' },
    { name: 'NETCHECK_ENDPOINTS', value: '10.244.0.5:8080 10.244.0.6:8080' }, { name: 'NETCHECK_HOST', value: 'backend' },
  ];

  it('collects every address and port the probe talks to', () => {
    expect(probeTargetsFromEnv(probeEnv)).to.deep.equal({ ips: ['10.96.0.20', '10.244.0.5', '10.244.0.6'], ports: [80, 8080] });
  });

  it('builds one tcpdump argument per line, without -w, with the user filter ANDed and checked', () => {
    const spec = withDefaults(check({ when: 'OnFailure', snapLength: 200, maxPackets: 50, durationSeconds: 9, filter: 'not port 22' }));
    const built = sourceCaptureEnvironment(spec, probeEnv);
    expect(built.ok).to.equal(true);
    if (!built.ok) return;
    const argv = built.env.find((e) => e.name === 'NETCHECK_CAPTURE_ARGV')!.value.split('\n');
    expect(argv.slice(0, 9)).to.deep.equal(['-i', 'any', '-nn', '-U', '--immediate-mode', '-s', '200', '-c', '50']);
    expect(argv).to.not.include('-w');
    expect(argv.at(-2)).to.equal('--');
    expect(argv.at(-1)).to.equal('(((host 10.96.0.20 or host 10.244.0.5 or host 10.244.0.6) and tcp) or (port 53) or (icmp or icmp6)) and (not port 22)');
    expect(built.env.find((e) => e.name === 'NETCHECK_CAPTURE_SECONDS')!.value).to.equal('9');
  });

  it('refuses a filter outside the grammar, naming spec.capture', () => {
    const spec = withDefaults(check({ when: 'Always', filter: 'tcp; touch /x' }));
    const built = sourceCaptureEnvironment(spec, probeEnv);
    expect(built.ok).to.equal(false);
    if (!built.ok) expect(built.error).to.match(/^spec\.capture: capture filter rejected/);
  });

  it('finds the pcap after the result document, and says when it is missing or damaged', () => {
    const pcap = fixture('rst-refused.pcap');
    const b64 = Buffer.from(pcap).toString('base64').replace(/.{76}/g, '$&\n');
    const found = pcapFromLog(`{"v":1}\n${CAPTURE_LOG_BEGIN}\n${b64}\n${CAPTURE_LOG_END}\n`);
    expect(found.state).to.equal('Found');
    if (found.state === 'Found') expect(Buffer.from(found.pcap).equals(Buffer.from(pcap))).to.equal(true);
    expect(pcapFromLog('{"v":1}\n').state).to.equal('Absent');
    expect(pcapFromLog(`${CAPTURE_LOG_BEGIN}\nAAAA\n`)).to.deep.include({ state: 'Invalid' });
    expect(pcapFromLog(`${CAPTURE_LOG_BEGIN}\n#notbase64#\n${CAPTURE_LOG_END}\n`)).to.deep.include({ state: 'Invalid' });
  });
});

describe('destination capture plan', () => {
  const pod = (name: string, namespace: string, podIP?: string) => ({
    metadata: { name, namespace, labels: { app: 'backend' } },
    spec: { containers: [{ name: 'server', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', ...(podIP ? { podIP } : {}) },
  });
  const service = { metadata: { name: 'backend', namespace: 'team' }, spec: { clusterIP: '10.96.0.20', selector: { app: 'backend' }, ports: [{ name: 'main', port: 80, targetPort: 'http' }] } };
  const request = (capture: NonNullable<NetworkCheck['spec']['capture']>, destinationPods: ReturnType<typeof pod>[]) => {
    const c = check(capture);
    return { check: c, spec: withDefaults(c), runId: 'g1-abc', targets: { sourcePods: [], destinationService: service, destinationPods } } as unknown as Parameters<typeof destinationCaptureTargets>[0];
  };

  it('captures only Running pods of the check\'s own namespace, at their target port, and says why not elsewhere', () => {
    const plan = destinationCaptureTargets(request({ when: 'Always', destination: true }, [pod('b-1', 'team', '10.244.0.5'), pod('b-2', 'other', '10.244.0.6'), pod('b-3', 'team')]));
    expect(plan.capture.map((t) => [t.pod.metadata!.name, t.port])).to.deep.equal([['b-1', 8080]]);
    expect(plan.refused.map((r) => r.pod)).to.deep.equal(['other/b-2', 'team/b-3']);
    expect(plan.refused[0]!.reason).to.include("outside the check's namespace team");
    expect(destinationCaptureTargets(request({ when: 'Always' }, [pod('b-1', 'team', '10.244.0.5')])).capture).to.deep.equal([]);
  });

  it('builds a capture container whose user-derived values are positional arguments, never program text', () => {
    const r = request({ when: 'Always', destination: true, durationSeconds: 7, filter: 'not port 22' }, [pod('b-1', 'team', '10.244.0.5')]);
    const built = buildDestinationCaptureContainer(r, destinationCaptureTargets(r).capture[0]!, 'probe:v1');
    expect(built.ok).to.equal(true);
    if (!built.ok) return;
    const command = built.container.command!;
    expect(command.slice(0, 4)).to.deep.equal(['/bin/bash', '-c', DESTINATION_CAPTURE_SCRIPT, 'netcheck-capture']);
    expect(command[4]).to.equal('7');
    expect(command.at(-1)).to.equal('((host 10.244.0.5 and tcp port 8080) or (icmp or icmp6)) and (not port 22)');
    expect(DESTINATION_CAPTURE_SCRIPT).to.not.include('22');
    expect(built.container.name).to.equal('netcheck-cap-g1-abc');
    expect(built.container.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'SETUID', 'SETGID'] });
  });
});
