// Nothing (ready) behind the Service: it explains any failure on the way to it, and the NXDOMAIN of a
// headless Service's name (which resolves only to ready pods).
import type { V1Pod } from '@kubernetes/client-node';
import { plural, sentence } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { SERVICE_NAME_LABEL, selectorString } from '../evidence.ts';
import { endpointsFault, type EndpointsFault } from '../layers/endpoints.ts';
import { Layer } from '../layers/index.ts';
import { formatLabels } from '../labels.ts';
import { Cause } from '../reasons.ts';
import { kubectl, type Argv } from '../reproduce.ts';
import { attemptShort, cause, rule, serviceName, type RootCause, type RuleContext } from './shared.ts';

/** The endpoints fault, when it explains what failed: a Service path, or a headless name that did not resolve. */
function explainingFault({ a, s }: RuleContext): EndpointsFault | undefined {
  const fault = endpointsFault(a.endpoints, a.destNamespace);
  if (!fault) return undefined;
  if (s.serviceFailed) return fault;
  const result = s.lookup?.lookup.dns;
  if (result && (result.status === 'nxdomain' || result.status === 'nodata') && a.endpoints.serviceKind === 'Headless') {
    return {
      ...fault,
      message: `${fault.message} (a headless Service resolves only to ready pods, so ${result.name} returned ${result.status.toUpperCase()})`,
    };
  }
  return undefined;
}

function endpointsCause(a: Analysis, fault: EndpointsFault, fix: string, extra: Argv[]): RootCause {
  const attempt = a.service.connectFailed[0];
  const symptom = attempt?.connect ? `; ClusterIP ${attemptShort(a, attempt)}` : '';
  const slices = kubectl(a.destNamespace, 'get', 'endpointslices', '-l', `${SERVICE_NAME_LABEL}=${serviceName(a)}`, '-o', 'wide');
  return cause(Layer.Endpoints, fault.reason, 'failure', sentence(`${fault.message}${symptom}`), fix, [slices, ...extra]);
}

export const selectorMismatch = rule('selectorMismatch', [Cause.SelectorMismatch], (context) => {
  const fault = explainingFault(context);
  if (fault?.reason !== Cause.SelectorMismatch) return undefined;
  const { a } = context;
  const ns = a.destNamespace;
  const name = serviceName(a);
  const nearest = a.endpoints.selectorReport?.nearMisses[0];
  const difference = nearest?.differences[0];
  const near = nearest && difference ? `: pod ${nearest.name} ${difference.description}` : '';
  const fix = `Fix: make the Service selector and the pod labels agree${near} (kubectl -n ${ns} edit service ${name}, or relabel the pods).`;
  return endpointsCause(a, fault, fix, [
    kubectl(ns, 'get', 'pods', '--show-labels'),
    kubectl(ns, 'get', 'service', name, '-o', 'jsonpath={.spec.selector}'),
  ]);
});

/** Why a backend pod is not ready, from its status: what to look at first. */
function notReadyHint(pod: V1Pod, namespace: string): string {
  const name = pod.metadata?.name ?? '<pod>';
  const containers = pod.status?.containerStatuses ?? [];
  const waiting = containers.map((c) => c.state?.waiting?.reason).find(Boolean);
  if (waiting === 'CrashLoopBackOff' || containers.some((c) => c.state?.terminated)) {
    return `its container keeps exiting (${waiting ?? 'terminated'}): kubectl -n ${namespace} logs ${name} --previous says why`;
  }
  if (waiting) return `its container is waiting (${waiting}): kubectl -n ${namespace} describe pod ${name} shows the events`;
  if (pod.status?.phase === 'Pending')
    return `it is Pending (not scheduled or not started): kubectl -n ${namespace} describe pod ${name} shows the events`;
  return `it runs but its readiness probe fails: kubectl -n ${namespace} describe pod ${name} shows the probe's failures`;
}

export const endpointsNotReady = rule('endpointsNotReady', [Cause.EndpointsNotReady], (context) => {
  const fault = explainingFault(context);
  if (fault?.reason !== Cause.EndpointsNotReady) return undefined;
  const { a } = context;
  const ns = a.destNamespace;
  const pod = a.endpoints.backends.find((backend) => !backend.ready);
  const why = pod ? `pod ${pod.name}: ${notReadyHint(pod.pod, ns)}` : `the backend pods: kubectl -n ${ns} describe pod`;
  const fix = `Fix: make the backend pods ready, starting with ${why}; a Service only sends traffic to ready pods.`;
  return endpointsCause(a, fault, fix, pod ? [kubectl(ns, 'describe', 'pod', pod.name)] : []);
});

export const noEndpoints = rule('noEndpoints', [Cause.NoEndpoints], (context) => {
  const fault = explainingFault(context);
  if (fault?.reason !== Cause.NoEndpoints) return undefined;
  const { a } = context;
  const ns = a.destNamespace;
  const name = serviceName(a);
  const selector = a.endpoints.service?.spec?.selector ?? {};
  const pods = Object.keys(selector).length > 0 ? [kubectl(ns, 'get', 'pods', '-l', selectorString(selector), '-o', 'wide')] : [];
  const ports = kubectl(ns, 'get', 'service', name, '-o', 'jsonpath={.spec.ports}');
  return endpointsCause(a, fault, noEndpointsFix(a), a.endpoints.backends.length > 0 ? [...pods, ports] : pods);
});

/** What to change when a Service has no endpoints, from what the evidence shows is missing. */
function noEndpointsFix(a: Analysis): string {
  const ns = a.destNamespace;
  const name = serviceName(a);
  const { endpoints } = a;
  const selector = formatLabels(endpoints.service?.spec?.selector);
  if (endpoints.selectorless) return `Fix: create EndpointSlices for Service ${ns}/${name} (it has no selector), or give it a selector.`;
  if (endpoints.backends.length === 0)
    return `Fix: deploy pods labelled ${selector} in namespace ${ns}, or point the selector at the pods that serve this Service.`;
  // The pods exist and match: what is missing is the port on them, or the slices that publish them.
  const port = endpoints.servicePort;
  const target = port?.targetPort ?? port?.port;
  if (endpoints.targetPortProblem && typeof target === 'string') {
    return (
      `Fix: name a container port ${target} in the pods' spec (ports[].name), or set the Service's targetPort to the port the pods declare ` +
      `(kubectl -n ${ns} edit service ${name}).`
    );
  }
  if (endpoints.targetPortProblem)
    return `Fix: set the Service's targetPort to a port the pods' containers declare (kubectl -n ${ns} edit service ${name}).`;
  if (endpoints.slices?.withoutPort.length) {
    return (
      `Fix: the EndpointSlices publish the pods without port ${port?.name || port?.port}: make the Service's port name and targetPort match a ` +
      `port the pods declare.`
    );
  }
  return (
    `Fix: ${plural(endpoints.backends.length, 'pod')} match ${selector} but no EndpointSlice lists them: check the EndpointSlice controller ` +
    `(kube-controller-manager) and the pods' IPs.`
  );
}
