// Nothing (ready) behind the Service: it explains any failure on the way to it, and the NXDOMAIN of a
// headless Service's name (which resolves only to ready pods).
import { sentence } from '../../util/text.ts';
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
    return { ...fault, message: `${fault.message} (a headless Service resolves only to ready pods, so ${result.name} returned ${result.status.toUpperCase()})` };
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
  return endpointsCause(a, fault, fix, [kubectl(ns, 'get', 'pods', '--show-labels'), kubectl(ns, 'get', 'service', name, '-o', 'jsonpath={.spec.selector}')]);
});

export const endpointsNotReady = rule('endpointsNotReady', [Cause.EndpointsNotReady], (context) => {
  const fault = explainingFault(context);
  if (fault?.reason !== Cause.EndpointsNotReady) return undefined;
  const { a } = context;
  const ns = a.destNamespace;
  const pod = a.endpoints.backends.find((backend) => !backend.ready);
  const fix = `Fix: find out why the backend pods are not ready (readiness probe, crash loop, pending scheduling: kubectl -n ${ns} describe pod ${pod?.name ?? '<pod>'}); a Service only sends traffic to ready pods.`;
  return endpointsCause(a, fault, fix, pod ? [kubectl(ns, 'describe', 'pod', pod.name)] : []);
});

export const noEndpoints = rule('noEndpoints', [Cause.NoEndpoints], (context) => {
  const fault = explainingFault(context);
  if (fault?.reason !== Cause.NoEndpoints) return undefined;
  const { a } = context;
  const ns = a.destNamespace;
  const name = serviceName(a);
  const selector = a.endpoints.service?.spec?.selector ?? {};
  const fix = a.endpoints.selectorless
    ? `Fix: create EndpointSlices for Service ${ns}/${name} (it has no selector), or give it a selector.`
    : `Fix: deploy pods labelled ${formatLabels(selector)} in namespace ${ns}, or point the selector at the pods that serve this Service.`;
  return endpointsCause(a, fault, fix, Object.keys(selector).length > 0 ? [kubectl(ns, 'get', 'pods', '-l', selectorString(selector), '-o', 'wide')] : []);
});
