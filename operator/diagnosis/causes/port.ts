// The port: the destination answered with a refusal and no policy explains it, so nothing listens
// on the port, or the Service's targetPort is not the port the pods declare.
import { listText } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { kubectl, type Argv } from '../reproduce.ts';
import { cause, outcomeShort, rule, serviceName, sourceText } from './shared.ts';
import type { PathSymptom } from './symptoms.ts';

interface Refusal {
  readonly path: PathSymptom;
  /** "backend-1 10.244.1.21:8080 on node node-1 refused from pod shop/web on node node-1". */
  readonly text: string;
  /** A look at what the refusing pod listens on. */
  readonly listening: Argv[];
}

function refusalOf(a: Analysis, path: PathSymptom | undefined): Refusal | undefined {
  const refused = path?.refused ?? [];
  if (!path || refused.length === 0) return undefined;
  const pod = refused[0].pod?.metadata?.name;
  const namespace = refused[0].pod?.metadata?.namespace ?? a.destNamespace;
  return {
    path,
    text: `${listText(
      refused.map((o) => outcomeShort(a, o)),
      3,
    )} from ${refused[0].vantage.label ?? sourceText(a)}`,
    listening: pod ? [kubectl(namespace, 'exec', pod, '--', 'sh', '-c', 'ss -ltnu 2>/dev/null || netstat -ltnu')] : [],
  };
}

export const targetPortMismatch = rule('targetPortMismatch', [Cause.TargetPortMismatch], ({ a, s }) => {
  const refusal = refusalOf(a, s.path);
  const problem = a.endpoints.targetPortProblem;
  if (!refusal || !problem) return undefined;
  const ns = a.destNamespace;
  const name = serviceName(a);
  const fix = `Fix: set the Service's targetPort to the port the container listens on (kubectl -n ${ns} edit service ${name}).`;
  const ports = kubectl(ns, 'get', 'service', name, '-o', 'jsonpath={.spec.ports}');
  return cause(Layer.PodIP, Cause.TargetPortMismatch, 'failure', `${refusal.text}: ${problem}.`, fix, [
    ...refusal.path.reproduce,
    ports,
    ...refusal.listening,
  ]);
});

export const portNotListening = rule('portNotListening', [Cause.PortNotListening], ({ a, s }) => {
  const external = s.external;
  // A refusal that a denying egress policy explains is the policy's (kube-router and Calico REJECT): egressBlocked.
  if (external?.attempt && external.refused && a.policy.denied.length === 0) {
    const port = external.attempt.connect?.port;
    const summary = `${external.text}: the host answered, but nothing listens on port ${port} (or a firewall rejects it).`;
    return cause(
      Layer.NorthSouth,
      Cause.PortNotListening,
      'failure',
      summary,
      `Fix: check that ${external.host} serves port ${port}.`,
      external.reproduce,
    );
  }
  const refusal = refusalOf(a, s.path);
  if (!refusal) return undefined;
  const port = refusal.path.refused[0].port;
  const target = a.kind === 'service' ? "the Service's targetPort" : 'the check';
  return cause(
    Layer.PodIP,
    Cause.PortNotListening,
    'failure',
    `${refusal.text}: the pod is reachable but nothing listens on port ${port}.`,
    `Fix: make the application listen on port ${port} on all interfaces (0.0.0.0, not 127.0.0.1), or point ${target} at the port it does listen on.`,
    [...refusal.path.reproduce, ...refusal.listening],
  );
});
