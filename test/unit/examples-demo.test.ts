// The examples and the demo app they point at agree without a cluster: every example's namespace,
// source and destination exist in examples/demo/demo.yaml (or are the cluster's own, kube-dns and
// the operator namespace), and the demo runs the test server image pinned in versions.env.
// test/e2e/examples.test.ts runs each example against the demo on the local cluster.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { REPO_ROOT, readVersions } from '../support/cluster.ts';

interface Manifest { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, any> }

const examplesDir = join(REPO_ROOT, 'examples');
const demo = parseAllDocuments(readFileSync(join(examplesDir, 'demo', 'demo.yaml'), 'utf8')).map((d) => d.toJSON() as Manifest);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort()
  .map((file) => ({ file, check: parse(readFileSync(join(examplesDir, file), 'utf8')) as NetworkCheck }));
const find = (kind: string, namespace: string, name: string) => demo.find((m) => m.kind === kind && m.metadata.name === name && (m.metadata.namespace ?? '') === (kind === 'Namespace' ? '' : namespace));
const podLabels = (m: Manifest) => (m.kind === 'Pod' ? m.metadata.labels : m.spec?.template?.metadata?.labels) ?? {};
const workloads = (namespace: string) => demo.filter((m) => (m.kind === 'Pod' || m.kind === 'Deployment') && m.metadata.namespace === namespace);
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
// Objects every cluster has, and the namespace the operator allows node sources in.
const CLUSTER_OWN = new Set(['Namespace//netcheck-system', 'Namespace//kube-system', 'Service/kube-system/kube-dns']);

describe('the examples and the demo app', () => {
  it('the demo runs only the pinned test server image, never pulled', () => {
    const containers = demo.flatMap((m) => (m.kind === 'Pod' ? m.spec?.containers : m.spec?.template?.spec?.containers) ?? []);
    expect(containers.length).to.be.at.least(4);
    for (const container of containers) expect(container, container.name).to.include({ image: readVersions().TESTSERVER_IMAGE, imagePullPolicy: 'IfNotPresent' });
  });

  for (const { file, check } of examples) {
    it(`${file} points at objects the demo (or every cluster) has`, () => {
      const namespace = check.metadata!.namespace!;
      const exists = (kind: string, ns: string, name: string) => CLUSTER_OWN.has(`${kind}/${kind === 'Namespace' ? '' : ns}/${name}`) || find(kind, ns, name) !== undefined;
      expect(exists('Namespace', '', namespace), `namespace ${namespace}`).to.equal(true);
      const { source, destination } = check.spec;
      if (source.pod) expect(find('Pod', namespace, source.pod), `pod ${source.pod}`).to.not.equal(undefined);
      if (source.workload) expect(find(source.workload.kind, namespace, source.workload.name), `${source.workload.kind} ${source.workload.name}`).to.not.equal(undefined);
      if (source.podSelector) expect(workloads(namespace).some((m) => matches(source.podSelector!.matchLabels ?? {}, podLabels(m))), 'pods of the selector').to.equal(true);
      if (source.node) expect(namespace, 'node sources live in the operator namespace').to.equal('netcheck-system');
      const destinationNamespace = destination.namespace ?? namespace;
      if (destination.service) {
        expect(exists('Service', destinationNamespace, destination.service), `Service ${destinationNamespace}/${destination.service}`).to.equal(true);
        const service = find('Service', destinationNamespace, destination.service);
        const port = destination.port;
        if (service && port !== undefined) {
          expect((service.spec!.ports as { port: number; name?: string }[]).some((p) => p.port === port || p.name === port), `port ${port}`).to.equal(true);
        }
      }
    });
  }
});
