// Capture Secrets: manifest shape, size cap, base64 round trip opened by tcpdump -r, names,
// labels and the extraction command. (Pruning is the controller's: pruneCaptureSecrets in
// controller/capture.ts drops a run's Secrets with its history entry; capture-controller.test.ts.)

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPcap, writePcap } from '../../operator/capture/pcap.ts';
import {
  buildCaptureSecret,
  CAPTURE_SECRET_DATA_KEY,
  captureExtractionCommand,
  captureSecretName,
  DEFAULT_CAPTURE_MAX_BYTES,
  labelValueFor,
  MAX_CAPTURE_SECRET_BYTES,
} from '../../operator/capture/secret.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const pcap = readFileSync(join(FIXTURES, 'ipv6-packet-too-big.pcap'));
const scratch = mkdtempSync(join(tmpdir(), 'capture-secret-test-'));
const check = { name: 'web-reachability', namespace: 'team-a', uid: '3f1c2a9e-0000-4000-8000-000000000001' };
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Decodes the Secret's data as `base64 -d` would and lists it with tcpdump -r. */
function openStored(data: string, name: string): { bytes: Buffer; lines: string[] } {
  const path = join(scratch, `${name}.b64`);
  writeFileSync(path, data);
  const bytes = execFileSync('base64', ['-d', path]);
  const pcapPath = join(scratch, `${name}.pcap`);
  writeFileSync(pcapPath, bytes);
  const listing = execFileSync('tcpdump', ['-nn', '-r', pcapPath], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return { bytes, lines: listing.split('\n').filter((line) => line.length > 0) };
}

describe('capture/secret: buildCaptureSecret', function () {
  const capturedAt = new Date('2026-11-21T08:15:00Z');

  it('builds an immutable Secret owned by the check, labelled by check and run', function () {
    const built = buildCaptureSecret({ check, runId: '20261121-0815', point: 'source', pcap, capturedAt });
    expect(built.name).to.equal('web-reachability-cap-20261121-0815-src');
    expect(built.secret).to.deep.include({ apiVersion: 'v1', kind: 'Secret', type: 'netcheck.dev/capture', immutable: true });
    expect(built.secret.metadata).to.deep.include({
      name: built.name,
      namespace: 'team-a',
      labels: {
        'netcheck.dev/check': 'web-reachability',
        'netcheck.dev/run': '20261121-0815',
        'netcheck.dev/capture-point': 'source',
        'app.kubernetes.io/managed-by': 'netcheck-operator',
      },
      annotations: {
        'netcheck.dev/captured-at': '2026-11-21T08:15:00.000Z',
        'netcheck.dev/packets': String(readPcap(pcap).packets.length),
        'netcheck.dev/truncated': 'false',
        'netcheck.dev/original-bytes': String(pcap.length),
      },
      ownerReferences: [
        {
          apiVersion: 'netcheck.dev/v1alpha1',
          kind: 'NetworkCheck',
          name: 'web-reachability',
          uid: check.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(Object.keys(built.secret.data ?? {})).to.deep.equal([CAPTURE_SECRET_DATA_KEY]);
    expect(built).to.include({ truncated: false, originalBytes: pcap.length, storedBytes: pcap.length, packetsDropped: 0 });
  });

  it('round-trips the pcap through base64 into a file tcpdump -r opens', function () {
    const built = buildCaptureSecret({ check, runId: 'r1', point: 'destination', pcap });
    const opened = openStored(built.secret.data![CAPTURE_SECRET_DATA_KEY], 'roundtrip');
    expect(Buffer.compare(opened.bytes, pcap)).to.equal(0);
    expect(opened.lines).to.have.length(readPcap(pcap).packets.length);
  });

  it('caps the stored pcap at maxBytes, whole packets only, still readable', function () {
    const maxBytes = 1000;
    const built = buildCaptureSecret({ check, runId: 'r2', point: 'source', pcap, maxBytes });
    expect(built.storedBytes).to.be.at.most(maxBytes);
    expect(built.truncated).to.equal(true);
    expect(built.packetsStored + built.packetsDropped).to.equal(readPcap(pcap).packets.length);
    expect(built.secret.metadata?.annotations?.['netcheck.dev/truncated']).to.equal('true');
    const opened = openStored(built.secret.data![CAPTURE_SECRET_DATA_KEY], 'capped');
    expect(opened.bytes.length).to.equal(built.storedBytes);
    expect(opened.lines).to.have.length(built.packetsStored);
  });

  it('cuts packets to the snap length (headers only)', function () {
    const built = buildCaptureSecret({ check, runId: 'r3', point: 'source', pcap, snapLength: 80 });
    const stored = readPcap(Buffer.from(built.secret.data![CAPTURE_SECRET_DATA_KEY], 'base64'));
    expect(stored.snapLength).to.equal(80);
    expect(Math.max(...stored.packets.map((p) => p.data.length))).to.equal(80);
    expect(built.truncated).to.equal(true);
  });

  it('never exceeds the hard ceiling, whatever maxBytes asks for', function () {
    // A real capture repeated until it is larger than a Secret can hold.
    const file = readPcap(pcap);
    const big = writePcap({ ...file, packets: Array.from({ length: 12000 }, (_, i) => file.packets[i % file.packets.length]) });
    expect(big.length).to.be.above(MAX_CAPTURE_SECRET_BYTES);
    const built = buildCaptureSecret({ check, runId: 'r4', point: 'source', pcap: big, maxBytes: 10 * 1024 * 1024 });
    expect(built.storedBytes).to.be.at.most(MAX_CAPTURE_SECRET_BYTES);
    expect(built.secret.data![CAPTURE_SECRET_DATA_KEY].length).to.be.below(1024 * 1024);
    const byDefault = buildCaptureSecret({ check, runId: 'r5', point: 'source', pcap: big });
    expect(byDefault.storedBytes).to.be.at.most(DEFAULT_CAPTURE_MAX_BYTES);
    expect(openStored(byDefault.secret.data![CAPTURE_SECRET_DATA_KEY], 'default-cap').lines).to.have.length(byDefault.packetsStored);
  });

  it('refuses an invalid namespace rather than writing a broken command', function () {
    expect(() => buildCaptureSecret({ check: { ...check, namespace: 'team a; rm' }, runId: 'r', point: 'source', pcap })).to.throw(/namespace/);
  });
});

describe('capture/secret: names, labels and the extraction command', function () {
  it('names are valid, deterministic and distinct per point and run', function () {
    const names = [
      captureSecretName('web', 'run-1', 'source'),
      captureSecretName('web', 'run-1', 'destination'),
      captureSecretName('web', 'run-2', 'source'),
      captureSecretName('web', 'Run_2 (manual)', 'source'),
    ];
    expect(names).to.deep.equal(['web-cap-run-1-src', 'web-cap-run-1-dst', 'web-cap-run-2-src', 'web-cap-run-2-manual-src']);
    expect(captureSecretName('web', 'run-1', 'source')).to.equal(names[0]);
  });

  it('clips long names to a valid 253-character Secret name with a hash', function () {
    const longCheck = `${'a'.repeat(120)}.${'b'.repeat(120)}`;
    const source = captureSecretName(longCheck, '2026-11-21T08:15:00Z', 'source');
    const destination = captureSecretName(longCheck, '2026-11-21T08:15:00Z', 'destination');
    for (const name of [source, destination]) {
      expect(name.length).to.be.at.most(253);
      expect(name).to.match(DNS1123_SUBDOMAIN);
    }
    expect(source).to.not.equal(destination);
    expect(captureSecretName(longCheck, 'other', 'source')).to.not.equal(source);
  });

  it('labelValueFor keeps valid values and hashes long ones into valid labels', function () {
    expect(labelValueFor('web-reachability')).to.equal('web-reachability');
    const long = `check.${'x'.repeat(100)}`;
    const value = labelValueFor(long);
    expect(value.length).to.be.at.most(63);
    expect(value).to.match(LABEL_VALUE);
    expect(labelValueFor(long)).to.equal(value);
    expect(labelValueFor(`${long}y`)).to.not.equal(value);
    // Colons are not allowed in label values: replaced, with a hash so distinct inputs stay distinct.
    expect(labelValueFor('2026-11-21T08:15:00Z')).to.match(/^2026-11-21T08-15-00Z-[0-9a-f]{8}$/);
    expect(labelValueFor('run 1')).to.match(LABEL_VALUE);
  });

  it('prints the documented copy-paste command', function () {
    expect(captureExtractionCommand('web-cap-run-1-src', 'team-a')).to.equal(
      "kubectl get secret web-cap-run-1-src -n team-a -o jsonpath='{.data.capture\\.pcap}' | base64 -d > capture.pcap",
    );
    expect(captureExtractionCommand('web-cap-run-1-dst', 'team-a', 'dst.pcap')).to.match(/> dst\.pcap$/);
  });

  it('refuses names that would need shell quoting', function () {
    expect(() => captureExtractionCommand('web;id', 'team-a')).to.throw(/secret name/);
    expect(() => captureExtractionCommand('web', 'team-a$(id)')).to.throw(/namespace/);
    expect(() => captureExtractionCommand('web', 'team-a', '../x')).to.throw(/output file/);
  });
});
