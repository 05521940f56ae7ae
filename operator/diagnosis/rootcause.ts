// The root-cause engine: combines the ladder's layer analyses (ladder.ts) into ONE explanation,
// with the evidence in one sentence, a fix, and the kubectl commands that repeat the failing step.
//
// The rule is the ladder's: work down the layers and stop at the first one that EXPLAINS the failure.
// A symptom layer (the ClusterIP timed out) is not an explanation; the engine looks further down for
// what explains it, and sharpens with comparisons:
//   - the ClusterIP fails but the pod IPs answer -> the service proxy (ServiceProxyMissing);
//   - same-node pods answer but cross-node ones time out -> the overlay (OverlayBroken);
//   - expect: Blocked but it connected -> PolicyNotEnforced (policy denies it) or the allowing rule.
// Warnings (search-path amplification, a pending LoadBalancer, a reduced path MTU with working PMTU
// discovery) never fail a check whose connection works: they become the reason of a Healthy result.
//
// Pure: the same analysis gives the same cause.
import type { Analysis, PodOutcome, ServiceAttempt, Vantage } from './analysis.ts';
import { hostPort, listText, plural, sentence, upperFirst } from '../util/text.ts';
import { describeConnect, describeHttp, podRef, podStateText } from './text.ts';
import { endpointsFault as endpointsCause } from './layers/endpoints.ts';
import { denyingPolicies, type PolicyFlow } from './layers/policy.ts';
import { kubeProxyBroken, kubeProxyText } from './layers/node.ts';
import { ingressControllersDown } from './layers/north-south.ts';
import { Layer, type LayerName } from './layers/index.ts';
import { connectCommand as cc, digCommand as dc, fromSource as fs, httpCommand as hc, kubectl, onNode as on, toolArgSafe, type Argv } from './reproduce.ts';
import type { HttpResult, IcmpResult } from '../probe/result.ts';
import { formatLabels } from './labels.ts';
import { formatPolicyRefs, type PolicyRef } from './netpol.ts';
import { Cause, HealthyReason, PROBE_LAYER } from './reasons.ts';
import { DNS_NAMESPACE, DNS_POD_LABEL, KUBE_PROXY_LABEL, SERVICE_NAME_LABEL, selectorString } from './evidence.ts';

const fromSource = (a: Analysis, argv: Argv) => fs(a.repro, argv);
const onNode = (a: Analysis, node: string, argv: Argv) => on(a.repro, node, argv);
const connectCommand = (a: Analysis, ip: string | undefined, port: number | undefined) => cc(a.repro, a.transport, ip, port);
const httpCommand = (a: Analysis, attempt: Parameters<typeof hc>[1]) => hc(a.repro, attempt);
const digCommand = (a: Analysis, name: string | undefined) => dc(a.repro, name);

export type Severity = 'ok' | 'warning' | 'failure' | 'error';

export interface RootCause {
  /** The layer that explains the result; undefined for a plain Healthy result. */
  readonly layer?: LayerName | typeof PROBE_LAYER;
  readonly reason: string;
  /** ok / warning: Healthy; failure: Unhealthy; error: Error (could not evaluate). */
  readonly severity: Severity;
  /** One sentence with the evidence. */
  readonly summary: string;
  /** One sentence: what to change. */
  readonly fix?: string;
  /** Commands (argv) that repeat the failing step by hand; rendered with shellJoin. */
  readonly reproduce: Argv[];
}

export const MAX_SUMMARY_LENGTH = 4000;

function ingressControllerRepro(a: Analysis): Argv[] {
  const controllers = a.evidence.ingressControllerPods;
  const pods = controllers?.pods.ok ? controllers.pods.value : [];
  const broken = pods.find((pod) => !pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const list = kubectl(undefined, 'get', 'pods', '-A', '-o', 'wide', '-l', controllers?.selector ?? 'app.kubernetes.io/component=controller');
  return broken ? [list, kubectl(broken.metadata?.namespace, 'describe', 'pod', broken.metadata?.name ?? '')] : [list];
}

function serviceName(a: Analysis): string {
  return a.endpoints.service?.metadata?.name ?? a.input.spec.destination.service ?? '';
}

// ---------------------------------------------------------------------------------------------------
// Small helpers.

function cause(layer: RootCause['layer'], reason: string, severity: Severity, summary: string, fix: string | undefined, reproduce: Argv[]): RootCause {
  return { layer, reason, severity, summary, fix, reproduce };
}


function sourceText(a: Analysis): string {
  return a.vantages[0]?.label ?? (a.repro.sourcePod ? `pod ${a.namespace}/${a.repro.sourcePod}` : 'the source');
}

function sourceNodeOf(a: Analysis, vantage?: Vantage): string | undefined {
  return (vantage ?? a.vantages[0])?.node ?? a.source.node ?? a.source.pods[0]?.spec?.nodeName;
}

function outcomeShort(a: Analysis, outcome: PodOutcome): string {
  const name = outcome.pod?.metadata?.name ? `${outcome.pod.metadata.name} ` : '';
  const node = outcome.node ? ` on node ${outcome.node}` : '';
  return `${name}${hostPort(outcome.ip, outcome.port)}${node} ${describeConnect(outcome.status, outcome.ms, outcome.err, a.transport)}`;
}

function attemptShort(a: Analysis, attempt: ServiceAttempt): string {
  if (attempt.skipped) return `was not attempted (${attempt.skipped.err ?? 'no address'})`;
  const parts: string[] = [];
  if (attempt.connect) parts.push(`${hostPort(attempt.connect.ip, attempt.connect.port)} ${describeConnect(attempt.connect.status, attempt.connect.ms, attempt.connect.err, a.transport)}`);
  if (attempt.http && (!attempt.connect || attempt.connect.status === 'ok')) parts.push(describeHttp(attempt.http));
  return parts.join(', ');
}

function flowPort(a: Analysis): string {
  const port = a.pods.outcomes[0]?.port ?? a.policy.flows[0]?.backend?.port ?? a.service.attempts[0]?.connect?.port;
  const protocol = a.protocol === 'UDP' ? 'UDP' : a.protocol === 'ICMP' ? 'ICMP' : 'TCP';
  return port ? `${port}/${protocol}` : protocol;
}

/** Labels that change with every rollout or name one pod: never suggest them in a policy. */
const VOLATILE_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
]);

function stableLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => !VOLATILE_LABELS.has(key) && !key.startsWith('netcheck.dev/') && key !== 'app.kubernetes.io/managed-by'));
}

function describePeerForRule(a: Analysis, side: 'source' | 'destination', flow: PolicyFlow): string {
  if (side === 'source') {
    const pod = a.source.endpoint?.pod;
    if (!pod) return a.source.endpoint?.displayName ? `${a.source.endpoint.displayName} (ipBlock ${a.source.endpoint.ip}/32)` : 'the source';
    return `pods ${formatLabels(stableLabels(a.source.newPodLabels ?? pod.metadata?.labels))} in namespace ${pod.metadata?.namespace}`;
  }
  const pod = flow.backend?.pod;
  if (!pod) return `ipBlock ${flow.target.replace(/:\d+$/, '')}/32`;
  // For a Service, its selector is the stable description of its pods.
  const selector = a.kind === 'service' ? a.endpoints.service?.spec?.selector : undefined;
  return `pods ${formatLabels(selector && Object.keys(selector).length > 0 ? selector : stableLabels(pod.metadata?.labels))} in namespace ${pod.metadata?.namespace}`;
}

/** "add an ingress rule to policy X (namespace shop) admitting pods app=web in namespace front on 8080/TCP". */
function policyFix(a: Analysis, flows: readonly PolicyFlow[]): string {
  const flow = flows[0];
  const parts: string[] = [];
  if (!flow.verdict.egress.allowed) {
    parts.push(`add an egress rule to ${formatPolicyRefs(flow.verdict.egress.defaultDenyPolicies)} allowing ${describePeerForRule(a, 'destination', flow)} on ${flowPort(a)}`);
  }
  if (!flow.verdict.ingress.allowed) {
    parts.push(`add an ingress rule to ${formatPolicyRefs(flow.verdict.ingress.defaultDenyPolicies)} admitting ${describePeerForRule(a, 'source', flow)} on ${flowPort(a)}`);
  }
  return `Fix: ${parts.join(', and ')}, if this traffic is intended.`;
}

function policyRepro(refs: readonly PolicyRef[]): Argv[] {
  return refs.slice(0, 3).map((ref) => kubectl(ref.namespace, 'describe', 'networkpolicy', ref.name));
}

// ---------------------------------------------------------------------------------------------------
// The decision.

export function determineRootCause(a: Analysis): RootCause {
  if (a.probeProblem) return probeFailed(a);
  const notReady = sourceNotReady(a);
  if (notReady) return notReady;
  if (a.expect === 'Blocked') return decideBlocked(a);
  return explainFailure(a) ?? firstWarning(a) ?? healthy(a);
}

function probeFailed(a: Analysis): RootCause {
  const pods = a.input.outputs.map((output) => output.pod).filter(Boolean);
  return cause(
    PROBE_LAYER,
    Cause.ProbeFailed,
    'error',
    `The probe could not test the path: ${a.probeProblem}.`,
    'Fix: this is an operator or probe-image problem, not a network finding; look at the probe pod log (the full result document) and report it if it persists.',
    pods.slice(0, 2).map((pod) => kubectl(a.namespace, 'logs', `pod/${pod}`)),
  );
}

function sourceNotReady(a: Analysis): RootCause | undefined {
  const { source } = a;
  if (source.kind !== 'pod') return undefined;
  const gone = source.deleted.length > 0 && source.pods.length === 0;
  const stopped = source.pods.length > 0 && source.notRunning.length === source.pods.length;
  if (!gone && !stopped) return undefined;
  const what = gone ? `source pod ${a.namespace}/${listText(source.deleted)} was deleted` : `source ${listText(source.notRunning.map((pod) => `pod ${podRef(pod)} is ${podStateText(pod)}`))}`;
  const name = gone ? source.deleted[0] : source.notRunning[0]?.metadata?.name;
  return cause(
    Layer.Source,
    Cause.SourceNotReady,
    'error',
    `The check cannot be evaluated: ${what}, and the probe stands in for a Running source.`,
    'Fix: get the source pod Running again (kubectl describe shows why it is not); the check probes from it.',
    name ? [kubectl(a.namespace, 'describe', 'pod', name)] : [],
  );
}

// --- expect: Reachable ------------------------------------------------------------------------------

function explainFailure(a: Analysis): RootCause | undefined {
  if (a.dns.failed) return explainDns(a);
  const connectFailed = a.service.connectFailed;
  const podFailed = a.pods.failed;
  const httpFailed = [...a.service.httpFailed, ...a.podHttpFailed];
  const icmpFailed = a.icmp.filter((entry) => entry.icmp.status !== 'ok');
  const udpDenied = a.transport === 'UDP' && a.policy.denied.length > 0 && [...a.service.attempts.map((t) => t.connect?.status), ...a.pods.outcomes.map((o) => o.status)].includes('noReply');
  const blackhole = a.mtu.broken?.mtu.status === 'blackhole';
  if (!connectFailed.length && !podFailed.length && !httpFailed.length && !icmpFailed.length && !udpDenied && !blackhole) return undefined;

  if (a.protocol === 'ICMP' && a.kind === 'service' && a.service.applicable && icmpFailed.length) {
    const entry = icmpFailed[0];
    return cause(
      Layer.Service,
      Cause.ICMPToClusterIP,
      'error',
      `Ping from ${entry.vantage.label} to ClusterIP ${entry.icmp.ip}: ${entry.icmp.received}/${entry.icmp.sent} replies; a ClusterIP is a virtual address that only answers pings when kube-proxy runs in IPVS mode, so this says nothing about the Service.`,
      'Fix: check a Service with protocol TCP, UDP or HTTP, or ping a pod destination (spec.destination.pod or podSelector).',
      [],
    );
  }
  if (a.kind === 'host' || a.endpoints.serviceKind === 'ExternalName') {
    const external = explainExternal(a);
    if (external) return external;
  }

  // Endpoints: nothing behind the Service explains any failure on the way to it.
  if (a.kind === 'service' && (connectFailed.length || podFailed.length || httpFailed.length)) {
    const endpoints = endpointsCause(a.endpoints, a.destNamespace);
    if (endpoints) return endpointsRootCause(a, endpoints);
  }

  // The ClusterIP fails, the pod IPs answer: the service translation is broken.
  if (a.service.applicable) {
    for (const attempt of connectFailed) {
      const direct = a.pods.outcomes.filter((outcome) => outcome.vantage === attempt.vantage);
      if (direct.length > 0 && direct.every((outcome) => outcome.status === 'ok')) return serviceProxyCause(a, attempt, direct);
    }
  }

  if (podFailed.length || connectFailed.length || (icmpFailed.length && a.kind === 'pod') || udpDenied) {
    const path = explainPath(a);
    if (path) return path;
  }
  if (httpFailed.length) return explainHttp(a, httpFailed[0]);
  if (blackhole) return mtuCause(a, 'failure');
  if (icmpFailed.length) return icmpCause(a, icmpFailed[0]);
  return undefined;
}

function endpointsRootCause(a: Analysis, endpoints: { reason: string; message: string }): RootCause {
  const ns = a.destNamespace;
  const name = serviceName(a);
  const attempt = a.service.connectFailed[0];
  const symptom = attempt?.connect ? `; ClusterIP ${attemptShort(a, attempt)}` : '';
  const selector = a.endpoints.service?.spec?.selector ?? {};
  const reproduce: Argv[] = [kubectl(ns, 'get', 'endpointslices', '-l', `${SERVICE_NAME_LABEL}=${name}`, '-o', 'wide')];
  let fix: string;
  switch (endpoints.reason) {
    case Cause.SelectorMismatch: {
      const nearest = a.endpoints.selectorReport?.nearMisses[0];
      const difference = nearest?.differences[0];
      fix = `Fix: make the Service selector and the pod labels agree${nearest && difference ? `: pod ${nearest.name} ${difference.description}` : ''} (kubectl -n ${ns} edit service ${name}, or relabel the pods).`;
      reproduce.push(kubectl(ns, 'get', 'pods', '--show-labels'), kubectl(ns, 'get', 'service', name, '-o', 'jsonpath={.spec.selector}'));
      break;
    }
    case Cause.EndpointsNotReady: {
      const pod = a.endpoints.backends.find((backend) => !backend.ready);
      fix = `Fix: find out why the backend pods are not ready (readiness probe, crash loop, pending scheduling: kubectl -n ${ns} describe pod ${pod?.name ?? '<pod>'}); a Service only sends traffic to ready pods.`;
      if (pod) reproduce.push(kubectl(ns, 'describe', 'pod', pod.name));
      break;
    }
    default:
      fix = a.endpoints.selectorless
        ? `Fix: create EndpointSlices for Service ${ns}/${name} (it has no selector), or give it a selector.`
        : `Fix: deploy pods labelled ${formatLabels(selector)} in namespace ${ns}, or point the selector at the pods that serve this Service.`;
      if (Object.keys(selector).length > 0) reproduce.push(kubectl(ns, 'get', 'pods', '-l', selectorString(selector), '-o', 'wide'));
  }
  return cause(Layer.Endpoints, endpoints.reason, 'failure', sentence(`${endpoints.message}${symptom}`), fix, reproduce);
}

function serviceProxyCause(a: Analysis, attempt: ServiceAttempt, direct: PodOutcome[]): RootCause {
  const node = sourceNodeOf(a, attempt.vantage);
  const clusterIP = a.service.clusterIP ?? attempt.connect?.ip ?? '';
  const evidence = `ClusterIP ${attemptShort(a, attempt)} from ${attempt.vantage.label}, but ${plural(direct.length, 'backend pod')} answered directly (${listText(direct.map((o) => outcomeShort(a, o)), 3)})`;
  const reproduce: Argv[] = [...connectCommand(a, attempt.connect?.ip, attempt.connect?.port), ...connectCommand(a, direct[0].ip, direct[0].port)];
  const nodeIssue = (issues: readonly { node: string; text: string }[]) => issues.find((issue) => !node || issue.node === node) ?? issues[0];
  const bridge = nodeIssue(a.node.bridgeNetfilterOff);
  if (bridge) {
    return cause(Layer.Node, Cause.BridgeNetfilterDisabled, 'failure', `${evidence}; ${bridge.text}, so bridged replies bypass the service NAT.`, `Fix: load br_netfilter and set net.bridge.bridge-nf-call-iptables=1 on node ${bridge.node} (persist it in /etc/sysctl.d).`, [...reproduce, onNode(a, bridge.node, ['sysctl', 'net.bridge.bridge-nf-call-iptables'])]);
  }
  const conntrack = nodeIssue(a.node.conntrackFull);
  if (conntrack) {
    return cause(Layer.Node, Cause.ConntrackTableFull, 'failure', `${evidence}; the ${conntrack.text}, so new NATed connections are dropped.`, `Fix: raise net.netfilter.nf_conntrack_max on node ${conntrack.node} (kube-proxy conntrack.maxPerCore) and find what holds so many connections.`, [...reproduce, onNode(a, conntrack.node, ['conntrack', '-C'])]);
  }
  const rules = nodeIssue(a.node.serviceRulesMissing);
  const proxy = kubeProxyText(a.node, node);
  const details = [rules?.text, proxy].filter((text): text is string => Boolean(text));
  const ruleCheck = node && toolArgSafe(clusterIP) ? [onNode(a, node, ['sh', '-c', 'iptables-save -t nat | grep -F -- "$1"', 'netcheck', clusterIP])] : [];
  const proxyPods = node ? [kubectl(DNS_NAMESPACE, 'get', 'pods', '-l', `${KUBE_PROXY_LABEL.key}=${KUBE_PROXY_LABEL.value}`, '-o', 'wide', `--field-selector=spec.nodeName=${node}`)] : [];
  return cause(
    Layer.Service,
    Cause.ServiceProxyMissing,
    'failure',
    sentence(`${evidence}: the service translation for ${clusterIP} is not working${node ? ` on node ${node}` : ''}${details.length ? ` (${details.join('; ')})` : ''}`),
    `Fix: make sure kube-proxy (or the CNI's service proxy) runs on node ${node ?? 'the source node'} and has programmed rules for ${clusterIP}; check its pod and logs.`,
    [...reproduce, ...proxyPods, ...ruleCheck],
  );
}

/** Failures on the way to pods (or to the ClusterIP with no pod-level evidence): policy, node, CNI. */
function explainPath(a: Analysis): RootCause | undefined {
  const failed = a.pods.failed;
  const silent = failed.filter((outcome) => outcome.status !== 'refused');
  const refused = failed.filter((outcome) => outcome.status === 'refused');
  const attempt = a.service.connectFailed[0];
  const symptom = failed.length > 0 ? `${listText(failed.map((o) => outcomeShort(a, o)), 3)} from ${failed[0].vantage.label}` : attempt ? `ClusterIP ${attemptShort(a, attempt)} from ${attempt.vantage.label}` : a.icmp[0] ? `ping to ${a.icmp[0].icmp.ip}: ${a.icmp[0].icmp.received}/${a.icmp[0].icmp.sent} replies` : `${a.destinationText} got no reply`;
  const anyAttempt = attempt ?? a.service.attempts[0];
  const reproduce: Argv[] = failed[0] ? connectCommand(a, failed[0].ip, failed[0].port) : anyAttempt?.connect ? connectCommand(a, anyAttempt.connect.ip, anyAttempt.connect.port) : [];

  // NetworkPolicy first, even for refusals: agents that REJECT denied traffic (kube-router answers
  // with ICMP port unreachable) make a denied TCP connect fail with ECONNREFUSED, exactly like a
  // closed port. Only a flow the policies allow can blame the port.
  const answered = new Set(a.pods.outcomes.filter((o) => o.status === 'ok').map((o) => o.ip));
  const denied = a.policy.denied.filter((flow) => !flow.backend?.ip || !answered.has(flow.backend.ip));
  if (denied.length > 0) {
    const refs = denyingPolicies(denied);
    const rejected = failed.length > 0 && silent.length === 0 ? ' (refused rather than dropped: the policy agent rejects denied traffic, as kube-router does with ICMP port unreachable)' : '';
    return cause(
      Layer.NetworkPolicy,
      Cause.BlockedByNetworkPolicy,
      'failure',
      sentence(`${symptom}${rejected}: ${denied[0].verdict.message.replace(/\.$/, '')}`),
      policyFix(a, denied),
      [...reproduce, ...policyRepro(refs)],
    );
  }
  if (failed.length > 0 && silent.length === 0) return portCause(a, refused, reproduce);

  const node = sourceNodeOf(a, failed[0]?.vantage ?? attempt?.vantage);
  const forwarding = a.node.ipForwardOff[0];
  if (forwarding) {
    return cause(Layer.Node, Cause.IPForwardingDisabled, 'failure', `${symptom}; ${forwarding.text}, so the node does not route pod traffic.`, `Fix: set net.ipv4.ip_forward=1 on node ${forwarding.node} (sysctl -w net.ipv4.ip_forward=1, and persist it in /etc/sysctl.d); something reset it.`, [...reproduce, onNode(a, forwarding.node, ['sysctl', 'net.ipv4.ip_forward'])]);
  }
  const involvedFailing = new Set([node, ...silent.map((o) => o.node)].filter((n): n is string => Boolean(n)));
  const notReadyNode = a.node.notReady.find((issue) => involvedFailing.has(issue.node)) ?? a.node.notReady[0];
  if (notReadyNode) {
    return cause(Layer.Node, Cause.NodeNotReady, 'failure', `${symptom}; ${notReadyNode.text}.`, `Fix: bring node ${notReadyNode.node} back to Ready (kubelet, container runtime, network), or drain it.`, [...reproduce, kubectl(undefined, 'describe', 'node', notReadyNode.node)]);
  }
  const conntrack = a.node.conntrackFull[0];
  if (conntrack) {
    return cause(Layer.Node, Cause.ConntrackTableFull, 'failure', `${symptom}; the ${conntrack.text}, so new connections are dropped.`, `Fix: raise net.netfilter.nf_conntrack_max on node ${conntrack.node} and find what holds so many connections.`, [...reproduce, onNode(a, conntrack.node, ['conntrack', '-C'])]);
  }

  // CNI: a broken agent or unconfigured network on a node involved in the failure, then the overlay.
  const unavailable = a.cni.networkUnavailable.find((issue) => involvedFailing.has(issue.node));
  if (unavailable) {
    return cause(Layer.CNI, Cause.NodeNetworkUnavailable, 'failure', `${symptom}; ${unavailable.text}: the CNI has not set up its network.`, `Fix: check the CNI agent on node ${unavailable.node}; the route controller or CNI clears NetworkUnavailable once the node's pod network is configured.`, [...reproduce, kubectl(undefined, 'describe', 'node', unavailable.node)]);
  }
  const agent = a.cni.agentProblems.find((issue) => involvedFailing.has(issue.node));
  if (agent) {
    return cause(Layer.CNI, Cause.CNIAgentNotReady, 'failure', `${symptom}; ${agent.text}.`, `Fix: repair the CNI agent on node ${agent.node} (its pod's events and logs say why it is not ready).`, [...reproduce, kubectl(undefined, 'get', 'pods', '-A', '-o', 'wide', `--field-selector=spec.nodeName=${agent.node}`)]);
  }
  const { cni } = a;
  const crossOnly = silent.length > 0 && silent.every((o) => o.sameNode === false);
  if (cni.overlaySuspect || (crossOnly && cni.overlayAddressMismatch.length > 0)) {
    const comparison = `${cni.sameNodeOk.length ? `Same-node pods answer (${listText(cni.sameNodeOk.map((o) => outcomeShort(a, o)), 2)}) but cross-node` : 'Cross-node'} pods time out (${listText(cni.crossNodeFailed.map((o) => outcomeShort(a, o)), 3)}) from ${cni.crossNodeFailed[0]?.vantage.label ?? sourceText(a)}`;
    const nodes = [...new Set(cni.crossNodeFailed.flatMap((o) => [o.vantage.node, o.node]).filter((n): n is string => Boolean(n)))];
    const peer = cni.crossNodeFailed[0];
    const tunnelCheck = peer?.vantage.node ? [onNode(a, peer.vantage.node, ['ip', '-d', 'link', 'show'])] : [];
    if (cni.overlayAddressMismatch.length > 0) {
      const mismatch = cni.overlayAddressMismatch[0];
      return cause(
        Layer.CNI,
        Cause.OverlaySourceAddressMismatch,
        'failure',
        sentence(`${comparison}; ${listText(cni.overlayAddressMismatch.map((i) => i.text), 2)}, so peers receive tunnel packets from an address they do not expect`),
        `Fix: make the CNI use node ${mismatch.node}'s InternalIP as its tunnel address (flannel --iface/--public-ip, Calico IP_AUTODETECTION_METHOD), or remove the stray address from the node's interface.`,
        [...reproduce, kubectl(undefined, 'get', 'node', mismatch.node, '-o', 'yaml'), ...tunnelCheck],
      );
    }
    return cause(
      Layer.CNI,
      Cause.OverlayBroken,
      'failure',
      sentence(`${comparison}: the overlay between nodes ${listText(nodes)} drops traffic${cni.detected.length ? ` (CNI: ${cni.detected.join(', ')})` : ''}`),
      `Fix: allow the overlay traffic between the nodes (VXLAN UDP 4789 or 8472, Geneve UDP 6081, IPIP protocol 4, WireGuard UDP 51820, depending on the CNI) in host firewalls and security groups, and check the CNI agents on ${listText(nodes)}.`,
      [...reproduce, ...tunnelCheck],
    );
  }
  if (refused.length > 0) return portCause(a, refused, reproduce);

  // The ClusterIP failed without pod-level evidence, and the node shows the proxy missing.
  if (attempt && a.service.applicable && (a.node.serviceRulesMissing.length > 0 || kubeProxyBroken(a.node, node))) {
    const proxy = [a.node.serviceRulesMissing[0]?.text, kubeProxyText(a.node, node)].filter(Boolean).join('; ');
    return cause(Layer.Service, Cause.ServiceProxyMissing, 'failure', sentence(`${symptom}; ${proxy}`), `Fix: make sure kube-proxy (or the CNI's service proxy) runs on node ${node ?? 'the source node'} and has programmed rules for ${a.service.clusterIP}.`, reproduce);
  }

  if (silent.length > 0 || (a.kind === 'pod' && a.icmp.some((entry) => entry.icmp.status !== 'ok'))) {
    const target = silent[0];
    const where = target?.node && target.vantage.node ? (target.node === target.vantage.node ? ` on the same node ${target.node}` : ` from node ${target.vantage.node} to node ${target.node}`) : '';
    return cause(
      Layer.PodIP,
      a.icmp.some((entry) => entry.icmp.status === 'partialLoss') && silent.length === 0 ? Cause.PacketLoss : Cause.PodUnreachable,
      'failure',
      sentence(`${symptom}; no NetworkPolicy denies it and the node and CNI evidence shows no fault${where}`),
      'Fix: follow the packets: capture on the source and destination pods (spec.capture) to see whether SYNs leave, arrive, or are answered; check routes and host firewalls between the nodes.',
      reproduce,
    );
  }
  if (attempt) {
    return cause(
      Layer.Service,
      Cause.ServiceUnreachable,
      'failure',
      sentence(`${symptom}; no backend was probed directly and no layer below explains it`),
      `Fix: test a backend pod IP directly and the service rules on node ${node ?? 'the source node'} (kube-proxy logs).`,
      reproduce,
    );
  }
  return undefined;
}

function portCause(a: Analysis, refused: PodOutcome[], reproduce: Argv[]): RootCause {
  const problem = a.endpoints.targetPortProblem;
  const targets = listText(refused.map((o) => outcomeShort(a, o)), 3);
  const listening = refused[0]?.pod?.metadata?.name;
  const ns = refused[0]?.pod?.metadata?.namespace ?? a.destNamespace;
  const extra: Argv[] = listening ? [kubectl(ns, 'exec', listening, '--', 'sh', '-c', 'ss -ltnu 2>/dev/null || netstat -ltnu')] : [];
  if (problem) {
    return cause(Layer.PodIP, Cause.TargetPortMismatch, 'failure', `${targets} from ${refused[0]?.vantage.label ?? sourceText(a)}: ${problem}.`, `Fix: set the Service's targetPort to the port the container listens on (kubectl -n ${a.destNamespace} edit service ${serviceName(a)}).`, [...reproduce, kubectl(a.destNamespace, 'get', 'service', serviceName(a), '-o', 'jsonpath={.spec.ports}'), ...extra]);
  }
  const port = refused[0]?.port;
  return cause(
    Layer.PodIP,
    Cause.PortNotListening,
    'failure',
    `${targets} from ${refused[0]?.vantage.label ?? sourceText(a)}: the pod is reachable but nothing listens on port ${port}.`,
    `Fix: make the application listen on port ${port} on all interfaces (0.0.0.0, not 127.0.0.1), or point ${a.kind === 'service' ? "the Service's targetPort" : 'the check'} at the port it does listen on.`,
    [...reproduce, ...extra],
  );
}

function explainHttp(a: Analysis, failed: { vantage: Vantage; connect?: { ip: string; port: number; status: string }; http?: HttpResult }): RootCause {
  const http = failed.http!;
  const reproduce = httpCommand(a, failed);
  const where = failed.connect ? `${hostPort(failed.connect.ip, failed.connect.port)} accepted the connection from ${failed.vantage.label}, but ${describeHttp(http)}` : upperFirst(describeHttp(http));
  const layer = a.kind === 'service' && a.service.applicable ? Layer.Service : a.kind === 'host' ? Layer.NorthSouth : Layer.PodIP;
  if ((http.status === 'timeout' || http.status === 'error' || http.status === 'protocolError') && a.mtu.broken) return mtuCause(a, 'failure', where);
  if (a.kind === 'host' && a.northSouth.external?.viaIngress && http.code === 404) {
    return cause(Layer.NorthSouth, Cause.IngressMisrouted, 'failure', `${where}: the ingress controller has no rule for this host and path (Ingress ${listText(a.northSouth.ingresses)}).`, 'Fix: make an Ingress rule match the requested host and path (and the ingressClassName of the running controller).', reproduce);
  }
  switch (http.status) {
    case 'unexpectedStatus':
      return cause(layer, Cause.UnexpectedHTTPStatus, 'failure', `${where}: the network path works, the application answered with an unexpected status.`, `Fix: check the application's handling of ${http.url ?? 'the request'}, or set spec.http.expectedStatus if ${http.code} is correct.`, reproduce);
    case 'tlsError':
      return cause(layer, Cause.TLSError, 'failure', `${where}: the TLS handshake failed.`, 'Fix: check the server certificate (its names must cover the host the client uses, its chain must be trusted) or set spec.http.host to the name the certificate covers.', reproduce);
    default:
      return cause(layer, Cause.HTTPRequestFailed, 'failure', `${where}.`, 'Fix: the TCP connection works; check the application (logs) and, for hanging responses, the path MTU.', reproduce);
  }
}

function mtuCause(a: Analysis, severity: Severity, prefix?: string): RootCause {
  const broken = a.mtu.broken!;
  const m = broken.mtu;
  const path = m.path ?? m.largestOk ?? 0;
  const kind = m.status === 'blackhole' ? `DF packets larger than ${m.largestOk} bytes vanish without an ICMP error` : `routers report "fragmentation needed" above ${m.largestOk} bytes`;
  const summary = `${prefix ? `${upperFirst(prefix)}; the` : 'The'} path MTU from ${broken.vantage.label} to ${m.ip} is ${path} bytes while ${m.iface ?? 'its interface'} has MTU ${m.local}: ${kind}${severity === 'warning' ? ' (PMTU discovery works, so TCP adapts; large UDP datagrams and tunnels suffer)' : ', so large segments are lost while small ones (the handshake) pass'}.`;
  const size = (m.local ?? 1500) - (m.ip.includes(':') ? 48 : 28);
  const reproduce = toolArgSafe(m.ip) ? [fromSource(a, ['ping', '-M', 'do', '-s', String(size), '-c', '3', m.ip]), fromSource(a, ['tracepath', '-n', m.ip])] : [];
  return cause(Layer.MTU, Cause.MTUMismatch, severity, summary, `Fix: make the MTUs agree: set the pod network (CNI) MTU to at most ${path} bytes, or raise the MTU of the lower link, and do not filter ICMP "fragmentation needed".`, reproduce);
}

function icmpCause(a: Analysis, entry: { vantage: Vantage; icmp: IcmpResult }): RootCause {
  const { icmp } = entry;
  const text = `ping from ${entry.vantage.label} to ${icmp.ip}: ${icmp.received}/${icmp.sent} replies (${icmp.lossPct}% loss)${icmp.err ? `, ${icmp.err}` : ''}`;
  const reproduce = toolArgSafe(icmp.ip) ? [fromSource(a, ['ping', '-c', '3', icmp.ip])] : [];
  if (icmp.status === 'partialLoss') return cause(a.kind === 'host' ? Layer.NorthSouth : Layer.PodIP, Cause.PacketLoss, 'failure', `${text}: some packets are lost.`, 'Fix: look for a congested or flapping link, a saturated node, or rate limiting of ICMP on the path.', reproduce);
  if (a.kind === 'host') return cause(Layer.NorthSouth, Cause.EgressBlocked, 'failure', `${text}: nothing came back from outside the cluster.`, 'Fix: check the nodes\' route and NAT (masquerade) for traffic leaving the cluster, and firewalls on the way; many hosts also simply drop ICMP.', reproduce);
  return cause(Layer.PodIP, Cause.PodUnreachable, 'failure', `${text}.`, 'Fix: check routes and firewalls between the nodes and the CNI agents.', reproduce);
}

/** Host destinations and ExternalName aliases: the path out of the cluster. */
function explainExternal(a: Analysis): RootCause | undefined {
  const ns = a.northSouth;
  const attempt = a.service.connectFailed[0];
  const host = ns.external?.host ?? a.endpoints.service?.spec?.externalName ?? a.destinationText;
  const down = ingressControllersDown(ns);
  if (ns.external?.viaIngress && down && (attempt || a.service.httpFailed.length)) {
    const failedText = attempt ? attemptShort(a, attempt) : describeHttp(a.service.httpFailed[0].http!);
    return cause(Layer.NorthSouth, Cause.IngressControllerUnavailable, 'failure', `${host} is served by Ingress ${listText(ns.ingresses)}, and ${failedText} from ${sourceText(a)}: ${down}.`, 'Fix: restore the ingress controller (its Deployment/DaemonSet and pod events), or point the Ingress at a running controller class.', [...ingressControllerRepro(a), ...(attempt?.connect ? connectCommand(a, attempt.connect.ip, attempt.connect.port) : [])]);
  }
  if (!attempt) return undefined;
  const symptom = `${host} ${attemptShort(a, attempt)} from ${attempt.vantage.label}`;
  const reproduce = attempt.connect ? connectCommand(a, attempt.connect.ip, attempt.connect.port) : [];
  if (ns.external?.internal && attempt.connect?.status !== 'refused') {
    // A cluster name given as a host: the ladder below (endpoints, pods, policies) was not collected.
    return cause(
      Layer.Service,
      Cause.ServiceUnreachable,
      'failure',
      `${symptom}; ${host} is a cluster name, so the traffic never left the cluster, but a host destination skips the Service's endpoints, pods and policies.`,
      `Fix: point the check at the Service (spec.destination.service and namespace) to get the layer-by-layer diagnosis.`,
      reproduce,
    );
  }
  if (attempt.connect?.status === 'refused') {
    return cause(Layer.NorthSouth, Cause.PortNotListening, 'failure', `${symptom}: the host answered, but nothing listens on port ${attempt.connect.port} (or a firewall rejects it).`, `Fix: check that ${host} serves port ${attempt.connect.port}.`, reproduce);
  }
  const denied = a.policy.denied;
  if (denied.length > 0) {
    const refs = denyingPolicies(denied);
    return cause(Layer.NetworkPolicy, Cause.EgressBlocked, 'failure', sentence(`${symptom}: ${denied[0].verdict.message.replace(/\.$/, '')}`), policyFix(a, denied), [...reproduce, ...policyRepro(refs)]);
  }
  const forwarding = a.node.ipForwardOff[0];
  if (forwarding) {
    return cause(Layer.Node, Cause.IPForwardingDisabled, 'failure', `${symptom}; ${forwarding.text}, so the node does not route pod traffic out.`, `Fix: set net.ipv4.ip_forward=1 on node ${forwarding.node} and persist it in /etc/sysctl.d.`, [...reproduce, onNode(a, forwarding.node, ['sysctl', 'net.ipv4.ip_forward'])]);
  }
  return cause(
    Layer.NorthSouth,
    Cause.EgressBlocked,
    'failure',
    `${symptom}; no NetworkPolicy denies it, so the traffic is lost outside the pod: a missing route or NAT (masquerade) on the node, or a firewall on the way.`,
    `Fix: check the node's default route and the CNI's masquerade rules for traffic leaving the cluster, and any egress firewall or proxy requirement for ${host}.`,
    reproduce,
  );
}

function explainDns(a: Analysis): RootCause {
  const { dns } = a;
  const lookup = dns.failed!;
  const result = lookup.dns;
  const server = result.server ?? lookup.resolv?.ns[0] ?? 'the nameserver';
  const tries = result.tries.slice(0, 3).map((t) => `${t.qname} ${t.result}`);
  const symptom = `${result.name} did not resolve from ${lookup.vantage.label}: ${result.status.toUpperCase()} from ${server} after ${plural(result.queries, 'query', 'queries')} in ${result.ms} ms${tries.length ? ` (${tries.join(', ')})` : ''}`;
  const reproduce = digCommand(a, result.name);
  const isServiceName = a.kind === 'service';

  if ((result.status === 'nxdomain' || result.status === 'nodata') && a.endpoints.serviceKind === 'Headless') {
    const endpoints = endpointsCause(a.endpoints, a.destNamespace);
    if (endpoints) return endpointsRootCause(a, { ...endpoints, message: `${endpoints.message} (a headless Service resolves only to ready pods, so ${result.name} returned ${result.status.toUpperCase()})` });
  }
  if (result.status === 'nxdomain') {
    const dnsPolicy = dns.sourceDnsPolicy;
    const policyHint = dnsPolicy && dnsPolicy !== 'ClusterFirst' && dnsPolicy !== 'ClusterFirstWithHostNet' ? ` The source pod uses dnsPolicy ${dnsPolicy}, so it does not ask the cluster DNS.` : '';
    const fix = isServiceName
      ? `Fix: Service ${a.destNamespace}/${serviceName(a)} exists, so the name is not resolved where it should be:${policyHint ? ' set dnsPolicy ClusterFirst on the source pod;' : ''} check the search domains (cluster domain) in resolv.conf and that CoreDNS serves the cluster zone.`
      : `Fix: check the spelling of ${result.name}, or create the record; the name does not exist in DNS.`;
    return cause(Layer.DNS, Cause.NameNotFound, 'failure', sentence(`${symptom}: the name does not exist.${policyHint}`), fix, reproduce);
  }
  if (result.status === 'nodata') {
    return cause(Layer.DNS, Cause.DNSNoAddress, 'failure', `${symptom}: the name exists but has no ${result.type} record.`, `Fix: check the record type (an ${result.type === 'A' ? 'IPv6-only (AAAA)' : 'IPv4-only (A)'} name?) or what the name points to.`, reproduce);
  }
  if (result.status === 'servfail' || result.status === 'refused') {
    return cause(Layer.DNS, Cause.DNSServerFailure, 'failure', `${symptom}: the DNS server answered but failed the query.`, 'Fix: check the CoreDNS logs and its upstream forwarders (the forward plugin in the Corefile); SERVFAIL usually means the upstream did not answer.', [...reproduce, kubectl(DNS_NAMESPACE, 'logs', '-l', `${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}`, '--tail=50')]);
  }

  // No answer at all: a policy, the DNS servers, the service proxy, the node, the CNI.
  const egress = dns.egress;
  if (egress && !egress.allowed && egress.status !== 'Unknown' && egress.udp.blockedTo.length > 0) {
    const egressBlockers = [...new Map(egress.flows.filter((flow) => !flow.egress.allowed).flatMap((flow) => flow.egress.defaultDenyPolicies).map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
    const ingressBlockers = [...new Map(egress.flows.filter((flow) => !flow.ingress.allowed).flatMap((flow) => flow.ingress.defaultDenyPolicies).map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
    const fixes: string[] = [];
    if (egressBlockers.length) fixes.push(`add port 53 UDP and TCP to namespace ${DNS_NAMESPACE} (pods ${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}) to the egress rules of ${formatPolicyRefs(egressBlockers)}`);
    if (ingressBlockers.length) fixes.push(`admit the source on port 53 UDP and TCP in the ingress rules of ${formatPolicyRefs(ingressBlockers)}`);
    return cause(Layer.NetworkPolicy, Cause.DNSEgressBlockedByPolicy, 'failure', sentence(`${symptom}. ${egress.message.replace(/; to fix,.*$/, '')}`), `Fix: ${fixes.join(', and ')}.`, [...reproduce, ...policyRepro(egress.blockingPolicies)]);
  }
  const servers = dns.servers;
  if (servers?.unavailable) {
    return cause(
      Layer.DNS,
      Cause.DNSServerUnavailable,
      'failure',
      `${symptom}: no DNS server can answer: ${servers.unavailable}.`,
      `Fix: bring CoreDNS back (kubectl -n ${DNS_NAMESPACE} get deployment coredns: scaled to 0? its pods' events say why they are not ready).`,
      [...reproduce, kubectl(DNS_NAMESPACE, 'get', 'pods', '-l', `${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}`, '-o', 'wide'), kubectl(DNS_NAMESPACE, 'get', 'endpointslices', '-l', `${SERVICE_NAME_LABEL}=kube-dns`)],
    );
  }
  const node = sourceNodeOf(a, lookup.vantage);
  const viaClusterIP = servers?.serviceIP && lookup.resolv?.ns.includes(servers.serviceIP) ? ` (the nameserver ${servers.serviceIP} is the kube-dns ClusterIP, a Service like any other)` : '';
  const clusterIPBroken = a.service.applicable && a.service.connectFailed.some((attempt) => {
    const direct = a.pods.outcomes.filter((o) => o.vantage === attempt.vantage);
    return direct.length > 0 && direct.every((o) => o.status === 'ok');
  });
  if (clusterIPBroken || a.node.serviceRulesMissing.length > 0 || kubeProxyBroken(a.node, node)) {
    const details = [clusterIPBroken ? `the ClusterIP of ${a.destinationText} fails too while its pods answer directly` : undefined, a.node.serviceRulesMissing[0]?.text, kubeProxyText(a.node, node)].filter(Boolean);
    return cause(Layer.Service, Cause.ServiceProxyMissing, 'failure', sentence(`${symptom}${viaClusterIP}; ${details.join('; ')}: the service proxy is not working on node ${node ?? 'the source node'}`), `Fix: make sure kube-proxy (or the CNI's service proxy) runs on node ${node ?? 'the source node'}; DNS and every ClusterIP depend on it.`, [...reproduce, ...(node ? [kubectl(DNS_NAMESPACE, 'get', 'pods', '-l', `${KUBE_PROXY_LABEL.key}=${KUBE_PROXY_LABEL.value}`, '-o', 'wide', `--field-selector=spec.nodeName=${node}`)] : [])]);
  }
  const forwarding = a.node.ipForwardOff[0];
  if (forwarding) {
    return cause(Layer.Node, Cause.IPForwardingDisabled, 'failure', `${symptom}; ${forwarding.text}, so DNS queries to pods on other nodes are not routed.`, `Fix: set net.ipv4.ip_forward=1 on node ${forwarding.node} and persist it in /etc/sysctl.d.`, [...reproduce, onNode(a, forwarding.node, ['sysctl', 'net.ipv4.ip_forward'])]);
  }
  const agent = a.cni.agentProblems[0] ?? a.cni.networkUnavailable[0];
  if (agent) {
    return cause(Layer.CNI, a.cni.agentProblems.length ? Cause.CNIAgentNotReady : Cause.NodeNetworkUnavailable, 'failure', `${symptom}; ${agent.text}.`, `Fix: repair the CNI on node ${agent.node}.`, reproduce);
  }
  const serverState = servers ? ` although ${servers.podsReady}/${servers.podsTotal} DNS pods are ready and kube-dns has ${plural(servers.endpointsReady, 'ready endpoint')}` : '';
  return cause(
    Layer.DNS,
    Cause.DNSTimeout,
    'failure',
    sentence(`${symptom}${viaClusterIP}${serverState}`),
    `Fix: follow the query: from the source to ${server} (the service rules on node ${node ?? 'the source node'}) and on to the DNS pods (CoreDNS logs; a capture with spec.capture shows queries without answers).`,
    [...reproduce, kubectl(DNS_NAMESPACE, 'logs', '-l', `${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}`, '--tail=50')],
  );
}

// --- Warnings and health ------------------------------------------------------------------------------

function firstWarning(a: Analysis): RootCause | undefined {
  const amp = a.dns.amplification;
  if (amp) {
    const absolute = `${amp.dns.name}.`;
    return cause(
      Layer.DNS,
      Cause.DNSSearchPathAmplification,
      'warning',
      `${amp.dns.name} resolved from ${amp.vantage.label}, but only after ${plural(amp.wasted, 'wasted query', 'wasted queries')} on the search path (${amp.dns.queries} queries, ${amp.dns.ms} ms; ndots:${amp.resolv?.ndots} with ${plural(amp.resolv?.search.length ?? 0, 'search domain')}); the connection works.`,
      `Fix: use the fully qualified name with a trailing dot (${absolute}) in the application, or set spec.dnsConfig.options ndots:2 on the pod.`,
      digCommand(a, amp.dns.name),
    );
  }
  if (a.mtu.broken && a.mtu.broken.mtu.status === 'fragNeeded') return mtuCause(a, 'warning');
  const ns = a.northSouth;
  if (ns.loadBalancer?.pending) {
    const name = serviceName(a);
    return cause(Layer.NorthSouth, Cause.LoadBalancerPending, 'warning', `${a.destinationText} works inside the cluster, but LoadBalancer Service ${a.destNamespace}/${name} has no external address (status.loadBalancer is empty), so it is not reachable from outside.`, 'Fix: install or repair a load-balancer controller (the cloud provider\'s, or MetalLB on bare metal), or expose the Service through a NodePort or an Ingress.', [kubectl(a.destNamespace, 'get', 'service', name, '-o', 'wide'), kubectl(a.destNamespace, 'describe', 'service', name)]);
  }
  const down = ingressControllersDown(ns);
  if (down && a.kind === 'service') {
    return cause(Layer.NorthSouth, Cause.IngressControllerUnavailable, 'warning', `${a.destinationText} works inside the cluster, but Ingress ${listText(ns.ingresses)} routes to it and ${down}.`, 'Fix: restore the ingress controller pods; external clients reach this Service through them.', ingressControllerRepro(a));
  }
  const udp = [...a.service.attempts.filter((t) => t.connect?.status === 'noReply').map((t) => `${hostPort(t.connect!.ip, t.connect!.port)}`), ...a.pods.outcomes.filter((o) => o.status === 'noReply').map((o) => hostPort(o.ip, o.port))];
  if (udp.length > 0) {
    return cause(undefined, HealthyReason.UDPNoReply, 'warning', `UDP to ${listText(udp, 3)} got no reply and no ICMP error from ${sourceText(a)}, and no NetworkPolicy denies it: the port is open (the service did not answer the probe's datagram) or silently filtered.`, 'Fix: nothing to fix if the service does not answer arbitrary datagrams; a refused port would have returned ICMP port unreachable.', a.service.attempts[0]?.connect ? connectCommand(a, a.service.attempts[0].connect.ip, a.service.attempts[0].connect.port) : []);
  }
  return undefined;
}

function healthy(a: Analysis): RootCause {
  const parts: string[] = [];
  const attempt = a.service.attempts[0];
  if (attempt?.connect) parts.push(`${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`);
  const ok = a.pods.outcomes.filter((o) => o.status === 'ok');
  if (a.pods.outcomes.length > 0) parts.push(`${ok.length}/${a.pods.outcomes.length} pod IPs answered directly`);
  const http = a.podHttpFailed.length === 0 ? a.vantages.find((v) => v.result.http)?.result.http : undefined;
  if (http && !attempt?.http) parts.push(describeHttp(http));
  if (a.icmp.length) parts.push(`ping ${a.icmp[0].icmp.ip}: ${a.icmp[0].icmp.received}/${a.icmp[0].icmp.sent} replies${a.icmp[0].icmp.rtt ? `, avg ${a.icmp[0].icmp.rtt.avg} ms` : ''}`);
  const lookup = a.dns.lookups[0];
  if (lookup) parts.push(`${lookup.dns.name} resolved to ${listText(lookup.dns.answers, 2)} in ${lookup.dns.ms} ms`);
  const notReady = a.endpoints.slices?.notReady.length ?? 0;
  if (notReady > 0) parts.push(`${plural(notReady, 'not-ready endpoint')} left out of rotation`);
  const vantages = a.vantages.length > 1 ? ` (from ${a.vantages.length} sources)` : '';
  return cause(undefined, HealthyReason.Reachable, 'ok', `${sourceText(a)} reached ${a.destinationText}${vantages}: ${parts.join('; ') || 'all probes passed'}.`, undefined, []);
}

// --- expect: Blocked ----------------------------------------------------------------------------------

function decideBlocked(a: Analysis): RootCause {
  const { policy } = a;
  if (a.protocol === 'DNS') return decideBlockedDns(a);
  const connected = a.service.attempts.filter((attempt) => attempt.connect?.status === 'ok');
  const okPods = a.pods.outcomes.filter((o) => o.status === 'ok');
  const icmpOk = a.icmp.filter((entry) => entry.icmp.received > 0);
  const deniedIPs = new Set(policy.denied.map((flow) => flow.backend?.ip ?? flow.target.replace(/:\d+$/, '')));
  // A refusal from a pod the policy does not deny means the SYN arrived: the path is open.
  const refusedOpen = a.pods.outcomes.filter((o) => o.status === 'refused' && !deniedIPs.has(o.ip));
  const reached = connected.length > 0 || okPods.length > 0 || icmpOk.length > 0 || refusedOpen.length > 0;
  const evidence = [
    ...connected.map((attempt) => `${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`),
    ...okPods.map((o) => outcomeShort(a, o)),
    ...refusedOpen.map((o) => outcomeShort(a, o)),
    ...icmpOk.map((entry) => `ping ${entry.icmp.ip}: ${entry.icmp.received}/${entry.icmp.sent} replies`),
  ];
  const reproduce: Argv[] = okPods[0] ? connectCommand(a, okPods[0].ip, okPods[0].port) : connected[0]?.connect ? connectCommand(a, connected[0].connect.ip, connected[0].connect.port) : [];

  if (reached) {
    const text = `${sourceText(a)} reached ${a.destinationText} although the check expects it to be blocked (${listText(evidence, 3)})`;
    if (policy.error) return cause(Layer.NetworkPolicy, Cause.UnexpectedlyReachable, 'failure', `${text}; the NetworkPolicies could not be read (${policy.error}).`, 'Fix: add a NetworkPolicy that denies this flow.', reproduce);
    const reachedIPs = new Set([...okPods, ...refusedOpen].map((o) => o.ip));
    const reachedFlows = reachedIPs.size > 0 ? policy.flows.filter((flow) => flow.backend?.ip && reachedIPs.has(flow.backend.ip)) : policy.flows;
    const flows = reachedFlows.length > 0 ? reachedFlows : policy.flows;
    const denied = flows.filter((flow) => !flow.verdict.allowed);
    if (denied.length > 0) {
      const refs = denyingPolicies(denied);
      const cni = a.cni.detected;
      const enforcer = cni.length === 0 ? 'no NetworkPolicy agent was found (by the well-known CNI labels)' : cni.includes('flannel') && !cni.some((name) => name !== 'flannel') ? 'the CNI is flannel, which does not enforce NetworkPolicy' : `the policy agent (${cni.join(', ')}) did not enforce it`;
      return cause(Layer.NetworkPolicy, Cause.PolicyNotEnforced, 'failure', `${text}, yet ${formatPolicyRefs(refs)} should deny it: ${enforcer}.`, 'Fix: run a CNI or policy agent that enforces NetworkPolicy (Calico, Cilium, Antrea, kube-router; flannel alone does not), or repair the agent on the nodes involved.', [...reproduce, ...policyRepro(refs)]);
    }
    const allowing = flows.map((flow) => flow.verdict.ingress.allowedBy ?? flow.verdict.egress.allowedBy).find(Boolean);
    if (allowing) {
      return cause(Layer.NetworkPolicy, Cause.AllowedByNetworkPolicy, 'failure', `${text}: ${flows[0].verdict.message.replace(/\.$/, '')}.`, `Fix: narrow ${allowing.description} (namespace ${allowing.policy.namespace}) so it no longer admits ${describePeerForRule(a, 'source', flows[0])}, if the block is intended.`, [...reproduce, ...policyRepro([allowing.policy])]);
    }
    const flow = flows[0];
    const subject = flow?.backend ? `pod ${podRef(flow.backend.pod)}` : a.destinationText;
    return cause(
      Layer.NetworkPolicy,
      Cause.NoPolicyIsolates,
      'failure',
      `${text}: no NetworkPolicy selects ${subject} for ingress or the source for egress, so all traffic is allowed.`,
      `Fix: add a NetworkPolicy that isolates ${subject} (for example a default-deny ingress policy in namespace ${flow?.backend?.pod.metadata?.namespace ?? a.destNamespace}) and allow only the intended clients.`,
      reproduce,
    );
  }

  // Not reached.
  const failures = [...a.service.connectFailed.map((attempt) => `${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`), ...a.pods.failed.map((o) => outcomeShort(a, o))];
  const blockedText = `${sourceText(a)} cannot reach ${a.destinationText}, as expected${failures.length ? ` (${listText(failures, 3)})` : ''}`;
  if (policy.denied.length > 0) {
    const refs = denyingPolicies(policy.denied);
    return cause(undefined, HealthyReason.BlockedAsExpected, 'ok', `${blockedText}: ${policy.denied[0].verdict.message.replace(/\.$/, '')}; denying: ${formatPolicyRefs(refs)}.`, undefined, []);
  }
  if (policy.error || !policy.applicable || policy.flows.length === 0) {
    return cause(undefined, HealthyReason.BlockedAsExpected, 'ok', `${blockedText}; the NetworkPolicies could not be evaluated (${policy.error ?? policy.notApplicable ?? 'no flow to evaluate'}).`, undefined, []);
  }
  const explanation = explainFailure(a);
  return cause(
    undefined,
    HealthyReason.BlockedNotByPolicy,
    'warning',
    `${blockedText}, but no NetworkPolicy denies it (${policy.flows[0].verdict.message.replace(/\.$/, '')})${explanation ? `; the block comes from elsewhere: ${explanation.reason}: ${explanation.summary}` : ''}`,
    'Fix: if the isolation matters, add a NetworkPolicy that denies this flow: today it only fails by accident and will open when the other fault is fixed.',
    explanation?.reproduce ?? [],
  );
}

function decideBlockedDns(a: Analysis): RootCause {
  const { dns } = a;
  const resolved = dns.lookups.filter((lookup) => lookup.dns.status === 'ok');
  const egress = dns.egress;
  if (resolved.length > 0) {
    const text = `${resolved[0].dns.name} resolved to ${listText(resolved[0].dns.answers, 2)} from ${resolved[0].vantage.label} although the check expects DNS to be blocked`;
    if (egress && !egress.allowed && egress.status !== 'Unknown') {
      return cause(Layer.NetworkPolicy, Cause.PolicyNotEnforced, 'failure', `${text}; ${egress.message.replace(/; to fix,.*$/, '')}.`, 'Fix: run a CNI or policy agent that enforces NetworkPolicy, or repair it on the nodes involved.', [...digCommand(a, resolved[0].dns.name), ...policyRepro(egress.blockingPolicies)]);
    }
    return cause(Layer.NetworkPolicy, Cause.AllowedByNetworkPolicy, 'failure', `${text}; ${egress?.message ?? 'the NetworkPolicies could not be evaluated'}.`, 'Fix: add an egress policy for the source that does not allow port 53 to the DNS pods, if the block is intended.', digCommand(a, resolved[0].dns.name));
  }
  const failed = dns.failed;
  const text = `${failed ? `${failed.dns.name} did not resolve (${failed.dns.status})` : 'no lookup succeeded'}, as expected`;
  if (egress && !egress.allowed && egress.status !== 'Unknown') return cause(undefined, HealthyReason.BlockedAsExpected, 'ok', `${text}: ${egress.message.replace(/; to fix,.*$/, '')}.`, undefined, []);
  return cause(undefined, HealthyReason.BlockedNotByPolicy, 'warning', `${text}, but no NetworkPolicy blocks DNS for the source${egress ? ` (${egress.message})` : ''}.`, 'Fix: if the isolation matters, add an egress policy for the source that does not allow port 53.', []);
}

// ---------------------------------------------------------------------------------------------------
// Rendering.

/** Summary and fix as one status.summary text (the CRD allows 4096 characters). */
export function summaryText(rootCause: RootCause): string {
  const text = rootCause.fix ? `${sentence(rootCause.summary)} ${rootCause.fix}` : sentence(rootCause.summary);
  return text.length <= MAX_SUMMARY_LENGTH ? text : `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…`;
}

