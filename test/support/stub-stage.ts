// A probe stage stubbed at its interface (operator/probe/stage.ts), for the tiers where probe pods
// cannot run: the integration tier has an API server but no kubelet, and the load benchmark measures
// the operator, not the probe. Everything around it is real: the controller records the run, polls
// the stage as it would poll probe pods, and diagnoses the probe documents against the API evidence.
//
// A run "takes" runDurationMs (wall clock), like a probe pod that starts and probes; then observe()
// reports the outcome the check's script chooses. The documents are built with the strict-parser-
// checked builders, shaped exactly like netcheck-probe.sh writes them.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { probePodName } from '../../operator/probe/pods.ts';
import type { ProbeOutput, ProbeStage, RunObservation, RunRequest } from '../../operator/probe/stage.ts';
import { clusterResolv, connectResult, endpointsSection, mtuResult, probeDoc, probeOutput, simulateLookup } from './builders.ts';

/** What a run of a check reports once it is done. */
export type ProbeScript = (request: RunRequest) => { outputs: ProbeOutput[] } | { failure: string };

export interface StubRun {
  /** namespace/name */
  key: string;
  runId: string;
  /** Wall-clock time start() was first called for this run. */
  startedAt: number;
  completedAt?: number;
}

export interface StubProbeStageOptions {
  runDurationMs: number;
  /** Used for checks without a script of their own. */
  defaultScript?: ProbeScript;
  /** The node the default script's probe pod reports it ran on. */
  nodeName?: string;
}

const keyOf = (check: NetworkCheck) => `${check.metadata?.namespace}/${check.metadata?.name}`;

export class StubProbeStage implements ProbeStage {
  /** Every run started, in order; start() for a run that already exists is not a new run. */
  readonly runs: StubRun[] = [];
  readonly cleaned: string[] = [];
  private readonly active = new Map<string, { run: StubRun; request: RunRequest; pods: string[] }>();
  private readonly scripts = new Map<string, ProbeScript>();
  private readonly options: StubProbeStageOptions;

  constructor(options: StubProbeStageOptions) {
    this.options = options;
  }

  /** Sets the outcome of the check's runs (key namespace/name). */
  script(key: string, script: ProbeScript): void {
    this.scripts.set(key, script);
  }

  runsOf(key: string): StubRun[] {
    return this.runs.filter((run) => run.key === key);
  }

  async start(request: RunRequest): Promise<string[]> {
    const id = `${keyOf(request.check)}/${request.runId}`;
    const existing = this.active.get(id);
    // Idempotent like the pod stage: creating a run's pods again is AlreadyExists, not a new run.
    if (existing) return existing.pods;
    const run: StubRun = { key: keyOf(request.check), runId: request.runId, startedAt: Date.now() };
    const pods = [probePodName(request.check, request.runId, 0)];
    this.runs.push(run);
    this.active.set(id, { run, request, pods });
    return pods;
  }

  async observe(check: NetworkCheck, runId: string): Promise<RunObservation> {
    const active = this.active.get(`${keyOf(check)}/${runId}`);
    if (!active) return { state: 'NotFound' };
    if (Date.now() - active.run.startedAt < this.options.runDurationMs) {
      return { state: 'Running', pods: active.pods, detail: 'probe pod Running (stub stage)' };
    }
    active.run.completedAt ??= Date.now();
    const script = this.scripts.get(active.run.key) ?? this.options.defaultScript ?? ((request: RunRequest) => serviceProbe(request, 'ok', this.options.nodeName));
    const outcome = script({ ...active.request, check });
    if ('failure' in outcome) return { state: 'Failed', pods: active.pods, reason: 'ProbeFailed', message: outcome.failure };
    return { state: 'Completed', pods: active.pods, outputs: outcome.outputs };
  }

  async cleanup(check: NetworkCheck, runId: string): Promise<void> {
    this.cleaned.push(`${keyOf(check)}/${runId}`);
    this.active.delete(`${keyOf(check)}/${runId}`);
  }
}

/**
 * The document a probe of a pod -> Service check writes: the Service name resolves to its ClusterIP,
 * then the ClusterIP and every backend pod IP are tried with `status`.
 */
export function serviceProbe(request: RunRequest, status: 'ok' | 'refused', nodeName = 'node-a'): { outputs: ProbeOutput[] } {
  const namespace = request.check.metadata?.namespace ?? 'default';
  const service = request.targets.destinationService;
  const name = service?.metadata?.name ?? request.spec.destination.service ?? 'backend';
  const clusterIP = service?.spec?.clusterIP ?? '10.0.0.1';
  const port = Number(request.spec.destination.port ?? 80);
  const targetPort = Number(service?.spec?.ports?.[0]?.targetPort ?? port);
  const resolv = clusterResolv(namespace);
  const backends = request.targets.destinationPods.map((pod) => pod.status?.podIP).filter((ip): ip is string => Boolean(ip));
  const doc = probeDoc({
    proto: 'TCP',
    target: { host: name, ip: clusterIP, port },
    resolv,
    dns: simulateLookup(name, resolv, { [`${name}.${namespace}.svc.cluster.local.`]: { result: 'NOERROR', answers: [clusterIP], ms: 1 } }),
    connect: connectResult(clusterIP, port, status),
    ...(backends.length > 0
      ? { endpoints: endpointsSection(backends.map((ip) => ({ ip, port: targetPort, status }))), mtu: mtuResult(backends[0]!, status === 'ok' ? 'ok' : 'unreachable') }
      : {}),
  });
  return { outputs: [probeOutput(probePodName(request.check, request.runId, 0), nodeName, doc)] };
}
