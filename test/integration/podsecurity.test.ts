// Probe pods against real Pod Security admission (kube-apiserver v1.34, no kubelet needed: server-side
// dry-run). Every kind of probe the operator builds (clone, newPod, DNS-only, capture, node probe,
// ephemeral probe, destination capture) is submitted in namespaces enforcing restricted, baseline and
// privileged; what admission admits must be exactly what the operator's up-front decision
// (podSecurityRefusal) allows, and the unprivileged template must pass restricted. Then the
// controller, as the operator's ServiceAccount, refuses a capture in a baseline namespace before any
// pod exists (Stalled/CaptureForbiddenByPodSecurity) and starts it once the namespace is relabelled.
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import { Manager } from '../../operator/controller/manager.ts';
import { silentLogger } from '../../operator/log.ts';
import { buildDestinationCaptureContainer } from '../../operator/probe/capture.ts';
import { podSecurityRefusal } from '../../operator/probe/podsecurity.ts';
import { buildEphemeralContainers, buildProbePods } from '../../operator/probe/template.ts';
import type { ProbeStage, RunObservation, RunRequest } from '../../operator/probe/stage.ts';
import { waitFor } from '../support/cluster.ts';
import { controlPlane } from './hooks.ts';

const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';
const LEVELS = ['restricted', 'baseline', 'privileged'] as const;
const ENFORCE = 'pod-security.kubernetes.io/enforce';
const IMAGE = 'docker.io/nicolaka/netshoot:v0.14@sha256:7381eb36fe1b88264c12d1e2585f5ade475624d0106ba6e216ac7e5c3159b7b9';

class RecordingStage implements ProbeStage {
  started: RunRequest[] = [];
  async start(request: RunRequest) { this.started.push(request); return [`probe-${request.runId}`]; }
  async observe(): Promise<RunObservation> { return { state: 'Running', pods: ['probe'], detail: 'no kubelet in this tier' }; }
  async cleanup() { /* nothing was created */ }
}

const restrictedSource = (name: string, namespace: string): V1Pod => ({
  metadata: { name, namespace, labels: { app: 'web' } },
  spec: {
    nodeName: 'node-a',
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'example.invalid/web:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
});

describe('probe pods against real Pod Security admission', function () {
  this.timeout(120_000);
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const ns = (level: string) => `psa-${level}`;

  const request = (spec: NetworkCheckSpec, namespace: string, source?: V1Pod): RunRequest => {
    const check: NetworkCheck = { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name: 'c', namespace, uid: '1f0c8c5e-0000-4000-8000-000000000001', generation: 1 }, spec };
    return { check, spec: withDefaults(check), runId: 'g1-x', targets: { sourcePods: source ? [source] : [], sourceNode: spec.source.node, destinationPods: [] } };
  };
  /** The API server's message for a refused request, undefined when it was admitted. */
  const refusal = async (call: Promise<unknown>): Promise<string | undefined> =>
    call.then(() => undefined, (err: { body?: string }) => (JSON.parse(String(err.body)) as { message: string }).message);

  before(async () => {
    const kc = controlPlane().kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    const deployed = controlPlane().kubectl(['apply', '--server-side', '-k', 'config/']);
    expect(deployed.code, deployed.stderr).to.equal(0);
    for (const level of LEVELS) {
      await core.createNamespace({ body: { metadata: { name: ns(level), labels: { [ENFORCE]: level } } } });
      // A source pod for ephemeral containers (restricted-compliant, so every level admits it).
      await core.createNamespacedPod({ namespace: ns(level), body: restrictedSource('web', ns(level)) });
    }
  });

  it('admits exactly the probe pods the operator would create, at each level', async () => {
    const source = restrictedSource('web', 'x');
    source.status = { phase: 'Running', podIP: '10.244.0.9' };
    const kinds: Record<string, { spec: NetworkCheckSpec; source?: boolean }> = {
      'clone TCP': { spec: { source: { pod: 'web' }, destination: { host: '10.0.0.1', port: 80 } }, source: true },
      'newPod ICMP': { spec: { source: { newPod: { labels: { app: 'r' } } }, destination: { host: '10.0.0.1' }, protocol: 'ICMP' } },
      'clone DNS': { spec: { source: { pod: 'web' }, destination: { host: 'example.com' }, protocol: 'DNS' }, source: true },
      'clone capture': { spec: { source: { pod: 'web' }, destination: { host: '10.0.0.1', port: 80 }, capture: { when: 'OnFailure' } }, source: true },
      'node probe': { spec: { source: { node: 'node-a' }, destination: { host: '10.0.0.1', port: 80 } } },
    };
    const outcomes: string[] = [];
    for (const level of LEVELS) {
      const namespace = { metadata: { name: ns(level), labels: { [ENFORCE]: level } } };
      for (const [kind, { spec, source: withSource }] of Object.entries(kinds)) {
        // A node probe runs in the operator namespace: here, a namespace of the level under test.
        const [pod] = buildProbePods(request(spec, ns(level), withSource ? { ...source, metadata: { ...source.metadata, namespace: ns(level) } } : undefined), { operatorNamespace: ns(level), image: IMAGE, script: 'exit 0' });
        const refused = await refusal(core.createNamespacedPod({ namespace: ns(level), body: pod!, dryRun: 'All' }));
        const expected = podSecurityRefusal(withDefaults({ spec } as NetworkCheck), namespace, namespace);
        outcomes.push(`${level} ${kind}: ${refused ? 'refused' : 'admitted'}`);
        expect(refused === undefined, `${level} ${kind}: admission said ${refused ?? 'yes'}, the operator ${expected?.reason ?? 'yes'}`).to.equal(expected === undefined);
        if (refused) expect(refused, `${level} ${kind}`).to.include(`violates PodSecurity "${level}:latest"`);
      }
    }
    // The unprivileged probes pass restricted itself; capture and node probes only privileged.
    expect(outcomes.filter((o) => o.endsWith('admitted'))).to.deep.equal([
      'restricted clone TCP: admitted', 'restricted newPod ICMP: admitted', 'restricted clone DNS: admitted',
      'baseline clone TCP: admitted', 'baseline newPod ICMP: admitted', 'baseline clone DNS: admitted',
      'privileged clone TCP: admitted', 'privileged newPod ICMP: admitted', 'privileged clone DNS: admitted', 'privileged clone capture: admitted', 'privileged node probe: admitted',
    ]);
  });

  it('admits the ephemeral probe at every level, and ephemeral or destination captures only in privileged', async () => {
    for (const level of LEVELS) {
      const namespace = ns(level);
      const current = await core.readNamespacedPod({ name: 'web', namespace });
      const probe = (capture: boolean) => buildEphemeralContainers(request({ source: { pod: 'web', via: 'Ephemeral' }, destination: { host: '10.0.0.1', port: 80 }, ...(capture ? { capture: { when: 'Always' } } : {}) }, namespace, current), { image: IMAGE, script: 'exit 0' })[0]!.container;
      const withTarget = { ...current, status: { phase: 'Running', podIP: '10.244.0.9' } };
      const built = buildDestinationCaptureContainer(request({ source: { pod: 'x' }, destination: { pod: 'web', port: 80 }, capture: { when: 'Always', destination: true } }, namespace), { pod: withTarget, port: 80 }, IMAGE);
      if (!built.ok) throw new Error(built.error);
      const add = (container: typeof built.container) => refusal(core.replaceNamespacedPodEphemeralcontainers({ name: 'web', namespace, dryRun: 'All', body: { ...current, spec: { ...current.spec!, ephemeralContainers: [container] } } }));
      expect(await add(probe(false)), `${level}: ephemeral probe`).to.equal(undefined);
      const captureRefused = await add(probe(true));
      const destinationRefused = await add(built.container);
      if (level === 'privileged') {
        expect(captureRefused, 'privileged: ephemeral capture').to.equal(undefined);
        expect(destinationRefused, 'privileged: destination capture').to.equal(undefined);
      } else {
        expect(captureRefused, `${level}: ephemeral capture`).to.include(`violates PodSecurity "${level}:latest"`);
        expect(destinationRefused, `${level}: destination capture`).to.include(`violates PodSecurity "${level}:latest"`);
      }
    }
  });

  it('refuses a capture up front in a baseline namespace (no pod, no run), and runs it once the namespace allows it', async () => {
    const namespace = 'psa-controller';
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { [ENFORCE]: 'baseline' } } } });
    await core.createNamespacedPod({ namespace, body: restrictedSource('web', namespace) });
    const running = await core.readNamespacedPod({ name: 'web', namespace });
    running.status = { phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }] };
    await core.replaceNamespacedPodStatus({ name: 'web', namespace, body: running });
    const stage = new RecordingStage();
    const identity = controlPlane().userKubeConfig('system:serviceaccount:netcheck-system:netcheck-operator', ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
    const manager = new Manager({ kubeConfig: identity, log: silentLogger(), stage, diagnose: () => { throw new Error('not reached'); }, namespaces: [namespace], workers: 1, operatorNamespace: 'netcheck-system' });
    await manager.start();
    try {
      await manager.waitForSync();
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: {
        apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name: 'cap', namespace },
        spec: { source: { pod: 'web' }, destination: { host: '10.0.0.1', port: 80 }, capture: { when: 'OnFailure' } },
      } });
      const get = async () => await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'cap' }) as NetworkCheck;
      const stalled = await waitFor('Stalled', async () => {
        const check = await get();
        return check.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? check : undefined;
      }, 15_000, 50);
      const condition = stalled.status!.conditions!.find((c) => c.type === 'Stalled')!;
      expect(condition.reason).to.equal('CaptureForbiddenByPodSecurity');
      expect(condition.message).to.include('namespace psa-controller enforces Pod Security "baseline"').and.include('NET_RAW');
      expect(stage.started, 'no run started').to.have.length(0);

      // The namespace informer (list/watch namespaces, granted in config/rbac) brings the check back.
      await core.patchNamespace({ name: namespace, body: [{ op: 'replace', path: `/metadata/labels/${ENFORCE.replace('/', '~1')}`, value: 'privileged' }] });
      await waitFor('the run to start', async () => stage.started.length === 1 || undefined, 10_000, 50);
      expect((await get()).status?.conditions?.find((c) => c.type === 'Stalled')?.status).to.equal('False');
    } finally {
      await manager.stop();
    }
  });

  it('grants the operator list and watch on namespaces and get on its own CRD only', () => {
    const as = '--as=system:serviceaccount:netcheck-system:netcheck-operator';
    const can = (...args: string[]) => controlPlane().kubectl(['auth', 'can-i', ...args, as]).stdout.trim();
    expect(can('list', 'namespaces')).to.equal('yes');
    expect(can('watch', 'namespaces')).to.equal('yes');
    expect(can('get', 'customresourcedefinitions.apiextensions.k8s.io/networkchecks.netcheck.dev')).to.equal('yes');
    expect(can('get', 'customresourcedefinitions.apiextensions.k8s.io/other.example.com')).to.equal('no');
    expect(can('list', 'customresourcedefinitions.apiextensions.k8s.io')).to.equal('no');
    expect(can('update', 'namespaces')).to.equal('no');
  });
});
