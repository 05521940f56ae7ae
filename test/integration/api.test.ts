// The NetworkCheck API on a real kube-apiserver: the CRD installs, every example is accepted,
// invalid specs are rejected at admission with a message that names the field, and explain works.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { controlPlane } from './hooks.ts';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));

function apply(object: unknown): { code: number; stdout: string; stderr: string } {
  return controlPlane().kubectl(['apply', '-f', '-'], stringify(object));
}

const base = () => ({
  apiVersion: 'netcheck.dev/v1alpha1',
  kind: 'NetworkCheck',
  metadata: { name: 'invalid', namespace: 'default' },
  spec: {
    source: { pod: 'web' } as Record<string, unknown>,
    destination: { service: 'backend', port: 8080 } as Record<string, unknown>,
  } as Record<string, unknown>,
});

type Mutate = (o: ReturnType<typeof base>) => void;
// Each row: a name, a mutation of a valid check, and text the rejection must contain (the field).
const invalid: [string, Mutate, RegExp][] = [
  ['no source kind', (o) => { o.spec.source = {}; }, /spec\.source: set exactly one of pod, podSelector, workload, newPod or node/],
  ['two source kinds', (o) => { o.spec.source = { pod: 'a', node: 'n1' }; }, /spec\.source: set exactly one/],
  ['three source kinds', (o) => { o.spec.source = { pod: 'a', newPod: { labels: { a: 'b' } }, podSelector: { matchLabels: { a: 'b' } } }; }, /spec\.source: set exactly one/],
  ['source missing', (o) => { delete o.spec.source; }, /spec\.source: Required value/],
  ['no destination kind', (o) => { o.spec.destination = { port: 80 }; }, /spec\.destination: set exactly one of service, pod, podSelector or host/],
  ['two destination kinds', (o) => { o.spec.destination = { service: 'a', host: 'example.com', port: 80 }; }, /spec\.destination: set exactly one/],
  ['destination missing', (o) => { delete o.spec.destination; }, /spec\.destination: Required value/],
  ['port 0', (o) => { (o.spec.destination as Record<string, unknown>).port = 0; }, /spec\.destination\.port/],
  ['port 65536', (o) => { (o.spec.destination as Record<string, unknown>).port = 65536; }, /spec\.destination\.port/],
  ['port negative', (o) => { (o.spec.destination as Record<string, unknown>).port = -1; }, /spec\.destination\.port/],
  ['port name too long', (o) => { (o.spec.destination as Record<string, unknown>).port = 'a-very-long-port-name'; }, /spec\.destination\.port/],
  ['port name with capitals', (o) => { (o.spec.destination as Record<string, unknown>).port = 'HTTP'; }, /spec\.destination\.port/],
  ['named port with host', (o) => { o.spec.destination = { host: 'example.com', port: 'http' }; }, /spec\.destination\.port: a named port needs a service or pod destination/],
  ['TCP without port', (o) => { o.spec.destination = { service: 'backend' }; }, /spec\.destination\.port: required for protocol TCP and UDP/],
  ['UDP without port', (o) => { o.spec.destination = { service: 'backend' }; o.spec.protocol = 'UDP'; }, /spec\.destination\.port: required for protocol TCP and UDP/],
  ['ICMP with port', (o) => { o.spec.protocol = 'ICMP'; }, /spec\.destination\.port: has no meaning for protocol ICMP or DNS/],
  ['DNS with an IP host', (o) => { o.spec.destination = { host: '10.0.0.1' }; o.spec.protocol = 'DNS'; }, /spec\.destination: protocol DNS resolves a name/],
  ['unknown protocol', (o) => { o.spec.protocol = 'SCTP'; }, /spec\.protocol: Unsupported value: "SCTP"/],
  ['http with TCP', (o) => { o.spec.http = { path: '/' }; }, /spec\.http: only valid with protocol HTTP or HTTPS/],
  ['http path without slash', (o) => { o.spec.protocol = 'HTTP'; o.spec.http = { path: 'healthz' }; }, /spec\.http\.path/],
  ['http status 99', (o) => { o.spec.protocol = 'HTTP'; o.spec.http = { expectedStatus: [99] }; }, /spec\.http\.expectedStatus\[0\]/],
  ['http bad method', (o) => { o.spec.protocol = 'HTTP'; o.spec.http = { method: 'BREW' }; }, /spec\.http\.method: Unsupported value/],
  ['via Ephemeral with a node source', (o) => { o.spec.source = { node: 'n1', via: 'Ephemeral' }; }, /spec\.source\.via: only valid with pod, podSelector or workload sources/],
  ['via with newPod', (o) => { o.spec.source = { newPod: { labels: { a: 'b' } }, via: 'Clone' }; }, /spec\.source\.via: only valid/],
  ['spread with a pod source', (o) => { o.spec.source = { pod: 'web', spread: 'EveryNode' }; }, /spec\.source\.spread: only valid with podSelector or workload/],
  ['bad spread value', (o) => { o.spec.source = { podSelector: { matchLabels: { a: 'b' } }, spread: 'All' }; }, /spec\.source\.spread: Unsupported value/],
  ['bad cron: 4 fields', (o) => { o.spec.schedule = '*/5 * * *'; }, /spec\.schedule/],
  ['bad cron: 6 fields', (o) => { o.spec.schedule = '0 */5 * * * *'; }, /spec\.schedule/],
  ['bad cron: shell characters', (o) => { o.spec.schedule = '* * * * $(reboot)'; }, /spec\.schedule/],
  ['timeZone without schedule', (o) => { o.spec.timeZone = 'Europe/Berlin'; }, /spec\.timeZone: only valid with spec\.schedule/],
  ['bad pod name (capitals)', (o) => { o.spec.source = { pod: 'Web_1' }; }, /spec\.source\.pod/],
  ['bad service name', (o) => { o.spec.destination = { service: 'back end', port: 80 }; }, /spec\.destination\.service/],
  ['bad namespace', (o) => { o.spec.destination = { service: 'b', namespace: 'Not.A.Label', port: 80 }; }, /spec\.destination\.namespace/],
  ['bad host', (o) => { o.spec.destination = { host: 'exa mple.com', port: 80 }; }, /spec\.destination\.host: must be a DNS name/],
  ['host with shell metacharacters', (o) => { o.spec.destination = { host: 'a.com;rm -rf /', port: 80 }; }, /spec\.destination\.host/],
  ['oversized host', (o) => { o.spec.destination = { host: 'a'.repeat(300) + '.com', port: 80 }; }, /spec\.destination\.host/],
  ['oversized pod name', (o) => { o.spec.source = { pod: 'a'.repeat(254) }; }, /spec\.source\.pod/],
  ['oversized capture filter', (o) => { o.spec.capture = { when: 'Always', filter: 'tcp '.repeat(100) }; }, /spec\.capture\.filter/],
  ['timeout 0', (o) => { o.spec.timeoutSeconds = 0; }, /spec\.timeoutSeconds/],
  ['timeout 61', (o) => { o.spec.timeoutSeconds = 61; }, /spec\.timeoutSeconds/],
  ['historyLimit 101', (o) => { o.spec.historyLimit = 101; }, /spec\.historyLimit/],
  ['bad expect', (o) => { o.spec.expect = 'Maybe'; }, /spec\.expect: Unsupported value/],
  ['expect Blocked from a node', (o) => { o.spec.source = { node: 'n1' }; o.spec.expect = 'Blocked'; }, /spec\.expect: Blocked asserts a NetworkPolicy/],
  ['bad capture.when', (o) => { o.spec.capture = { when: 'Sometimes' }; }, /spec\.capture\.when: Unsupported value/],
  ['capture larger than 8 MiB', (o) => { o.spec.capture = { when: 'Always', snapLength: 65535, maxPackets: 200 }; }, /spec\.capture: maxPackets x snapLength must stay within 8 MiB/],
  ['destination capture on a schedule', (o) => { o.spec.schedule = '*/5 * * * *'; o.spec.capture = { when: 'OnFailure', destination: true }; }, /spec\.capture\.destination: each run adds an ephemeral container/],
  ['capture snapLength below 68', (o) => { o.spec.capture = { when: 'Always', snapLength: 64 }; }, /spec\.capture\.snapLength/],
  ['via Ephemeral on a schedule', (o) => { o.spec.source = { pod: 'web', via: 'Ephemeral' }; o.spec.schedule = '*/5 * * * *'; }, /spec\.source\.via: Ephemeral adds a container to the source pod on every run/],
  ['node capture with a snapLength above 128', (o) => { o.spec.source = { node: 'n1' }; o.spec.capture = { when: 'Always', snapLength: 256 }; }, /spec\.capture\.snapLength: a node capture sees the host's traffic, so it keeps headers only: at most 128 bytes/],
  ['probe resources beyond cpu and memory', (o) => { o.spec.probe = { resources: { limits: { 'nvidia.com/gpu': 1 } } }; }, /only cpu and memory may be set/],
  ['a keyless toleration with Equal', (o) => { o.spec.probe = { tolerations: [{ operator: 'Equal', value: 'x' }] }; }, /spec\.probe\.tolerations\[\]: a toleration without a key must use operator Exists/],
  ['a toleration with a malformed key', (o) => { o.spec.probe = { tolerations: [{ key: 'bad key!', operator: 'Exists' }] }; }, /must be a valid taint key/],
  ['bad imagePullPolicy', (o) => { o.spec.probe = { imagePullPolicy: 'Often' }; }, /spec\.probe\.imagePullPolicy: Unsupported value/],
  ['bad workload kind', (o) => { o.spec.source = { workload: { kind: 'Job', name: 'x' } }; }, /spec\.source\.workload\.kind: Unsupported value/],
  ['selector In without values', (o) => { o.spec.source = { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }; }, /values must be non-empty for In and NotIn/],
  ['bad label key in newPod', (o) => { o.spec.source = { newPod: { labels: { 'bad key!': 'x' } } }; }, /spec\.source\.newPod\.labels: Invalid value.*label keys/],
  ['bad label value', (o) => { o.spec.source = { newPod: { labels: { app: 'has space' } } }; }, /spec\.source\.newPod\.labels\.app/],
  ['an unknown field (strict field validation)', (o) => { (o.spec as Record<string, unknown>).sourcee = { pod: 'x' }; }, /unknown field "spec\.sourcee"/],
];

describe('NetworkCheck CRD on a real API server', () => {
  before(() => {
    for (const ns of ['shop', 'untrusted', 'netcheck-system']) controlPlane().kubectl(['create', 'namespace', ns]);
  });

  it('is installed with the names, short name, category and printer columns', () => {
    const crd = JSON.parse(controlPlane().kubectl(['get', 'crd', 'networkchecks.netcheck.dev', '-o', 'json']).stdout);
    expect(crd.spec.names).to.include({ kind: 'NetworkCheck', plural: 'networkchecks', singular: 'networkcheck' });
    expect(crd.spec.names.shortNames).to.deep.equal(['netcheck']);
    expect(crd.spec.names.categories).to.deep.equal(['netcheck']);
    const columns = crd.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase());
    expect(columns).to.deep.equal(['SOURCE', 'DESTINATION', 'PROTOCOL', 'RESULT', 'LAYER', 'REASON', 'LAST RUN', 'AGE']);
    expect(crd.spec.versions[0].subresources).to.deep.equal({ status: {} });
  });

  const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();
  it('has examples to apply', () => expect(examples.length).to.be.greaterThanOrEqual(9));
  for (const file of examples) {
    it(`accepts examples/${file}`, () => {
      const text = readFileSync(examplesDir + file, 'utf8');
      const result = controlPlane().kubectl(['apply', '-f', '-'], text);
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(0);
      const doc = parse(text);
      const stored = JSON.parse(controlPlane().kubectl(['get', 'networkcheck', doc.metadata.name, '-n', doc.metadata.namespace, '-o', 'json']).stdout);
      // Defaults are applied at admission.
      expect(stored.spec.timeoutSeconds).to.be.a('number');
      expect(stored.spec.expect).to.be.oneOf(['Reachable', 'Blocked']);
    });
  }

  it(`rejects at least 30 invalid checks (${invalid.length} cases)`, () => expect(invalid.length).to.be.greaterThanOrEqual(30));
  for (const [name, mutate, message] of invalid) {
    it(`rejects: ${name}`, () => {
      const object = base();
      object.metadata.name = `invalid-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 50)}`;
      mutate(object);
      const result = apply(object);
      expect(result.code, `accepted: ${result.stdout}`).to.not.equal(0);
      expect(result.stderr).to.match(message);
    });
  }

  it('accepts the valid base object (so each rejection above is caused by its mutation)', () => {
    const object = base();
    object.metadata.name = 'valid-base';
    const result = apply(object);
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
  });

  it('teaches the API through kubectl explain', () => {
    const result = controlPlane().kubectl(['explain', 'networkcheck.spec.source']);
    expect(result.code).to.equal(0);
    // kubectl wraps descriptions; compare with white space folded.
    const text = result.stdout.replace(/\s+/g, ' ');
    expect(text).to.include('Set exactly one of pod, podSelector, workload, newPod or node');
    expect(text).to.match(/spread <string>/);
    const dest = controlPlane().kubectl(['explain', 'networkcheck.spec.destination.port']).stdout.replace(/\s+/g, ' ');
    expect(dest).to.include('a number 1-65535, or a named port');
    const hops = controlPlane().kubectl(['explain', 'networkcheck.status.path.hops']).stdout.replace(/\s+/g, ' ');
    expect(hops).to.include('The hops in packet order, at most 40');
    expect(hops).to.match(/kind <string> .*Source \(the pod or node the probe stood for\)/);
    expect(hops).to.match(/policy <Object>/);
  });
});
