// North-south: the way into the cluster (a LoadBalancer address, an Ingress controller) and the way
// out of it (egress to a host: policy, the node's route and NAT, firewalls on the way).
import { listText, sentence } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { ingressControllersDown } from '../layers/north-south.ts';
import { denyingPolicies } from '../layers/policy.ts';
import { Cause } from '../reasons.ts';
import { connectCommand, kubectl, type Argv } from '../reproduce.ts';
import { describeHttp } from '../text.ts';
import { policyFix, policyRepro } from './policy.ts';
import { attemptShort, cause, rule, serviceName, sourceText } from './shared.ts';
import { pingReproduce, pingText } from './unexplained.ts';

function ingressControllerRepro(a: Analysis): Argv[] {
  const controllers = a.evidence.ingressControllerPods;
  const pods = controllers?.pods.ok ? controllers.pods.value : [];
  const broken = pods.find((pod) => !pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const list = kubectl(undefined, 'get', 'pods', '-A', '-o', 'wide', '-l', controllers?.selector ?? 'app.kubernetes.io/component=controller');
  return broken ? [list, kubectl(broken.metadata?.namespace, 'describe', 'pod', broken.metadata?.name ?? '')] : [list];
}

/** Restore the controllers that were found, or find out which controller should serve the Ingress at all. */
function ingressFix(a: Analysis): string {
  if (a.northSouth.controllers?.total === 0) {
    return (
      "Fix: no ingress controller pod was found by its labels: check that a controller serves the Ingress's class (ingressClassName), in the " +
      'cluster or outside it.'
    );
  }
  return 'Fix: restore the ingress controller (its Deployment/DaemonSet and pod events), or point the Ingress at a running controller class.';
}

export const loadBalancerPending = rule('loadBalancerPending', [Cause.LoadBalancerPending], ({ a, s }) => {
  if (!s.healthy || !a.northSouth.loadBalancer?.pending) return undefined;
  const name = serviceName(a);
  return cause(
    Layer.NorthSouth,
    Cause.LoadBalancerPending,
    'warning',
    `${a.destinationText} works inside the cluster, but LoadBalancer Service ${a.destNamespace}/${name} has no external address ` +
      `(status.loadBalancer is empty), so it is not reachable from outside.`,
    "Fix: install or repair a load-balancer controller (the cloud provider's, or MetalLB on bare metal), or expose the Service through a NodePort " +
      'or an Ingress.',
    [kubectl(a.destNamespace, 'get', 'service', name, '-o', 'wide'), kubectl(a.destNamespace, 'describe', 'service', name)],
  );
});

export const ingressControllerUnavailable = rule('ingressControllerUnavailable', [Cause.IngressControllerUnavailable], ({ a, s }) => {
  const external = s.external;
  const ingresses = listText(a.northSouth.ingresses);
  if (external?.ingressDown) {
    const attempt = external.attempt;
    const failed = attempt ? attemptShort(a, attempt) : describeHttp(a.service.httpFailed[0].http!);
    const connect = attempt?.connect ? connectCommand(a.repro, a.transport, attempt.connect.ip, attempt.connect.port) : [];
    return cause(
      Layer.NorthSouth,
      Cause.IngressControllerUnavailable,
      'failure',
      `${external.host} is served by Ingress ${ingresses}, and ${failed} from ${sourceText(a)}: ${external.ingressDown}.`,
      ingressFix(a),
      [...ingressControllerRepro(a), ...connect],
    );
  }
  const down = ingressControllersDown(a.northSouth);
  if (!s.healthy || !down || a.kind !== 'service') return undefined;
  return cause(
    Layer.NorthSouth,
    Cause.IngressControllerUnavailable,
    'warning',
    `${a.destinationText} works inside the cluster, but Ingress ${ingresses} routes to it and ${down}.`,
    `${ingressFix(a)} External clients reach this Service through it.`,
    ingressControllerRepro(a),
  );
});

export const egressBlocked = rule('egressBlocked', [Cause.EgressBlocked], ({ a, s }) => {
  const external = s.external;
  const denied = a.policy.denied;
  if (external?.attempt && !external.internal && (!external.refused || denied.length > 0)) {
    if (denied.length > 0) {
      const summary = sentence(`${external.text}: ${denied[0].verdict.message.replace(/\.$/, '')}`);
      return cause(Layer.NetworkPolicy, Cause.EgressBlocked, 'failure', summary, policyFix(a, denied), [
        ...external.reproduce,
        ...policyRepro(denyingPolicies(denied)),
      ]);
    }
    return cause(
      Layer.NorthSouth,
      Cause.EgressBlocked,
      'failure',
      `${external.text}; no NetworkPolicy denies it, so the traffic is lost outside the pod: a missing route or NAT (masquerade) on the node, or a ` +
        `firewall on the way.`,
      `Fix: check the node's default route and the CNI's masquerade rules for traffic leaving the cluster, and any egress firewall or proxy ` +
        `requirement for ${external.host}.`,
      external.reproduce,
    );
  }
  if (!s.icmp || a.kind !== 'host' || s.icmp.icmp.status === 'partialLoss') return undefined;
  return cause(
    Layer.NorthSouth,
    Cause.EgressBlocked,
    'failure',
    `${pingText(s.icmp)}: nothing came back from outside the cluster.`,
    "Fix: check the nodes' route and NAT (masquerade) for traffic leaving the cluster, and firewalls on the way; many hosts also simply drop ICMP.",
    pingReproduce(a, s.icmp),
  );
});
