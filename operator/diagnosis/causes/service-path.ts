// The Service path: the service translation (kube-proxy or the CNI's proxy) on the source's node, a
// ping that cannot test a ClusterIP, and a ClusterIP that fails with nothing below to explain it.
import { sentence } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { DNS_NAMESPACE, KUBE_PROXY_LABEL } from '../evidence.ts';
import { Layer } from '../layers/index.ts';
import { kubeProxyBroken, kubeProxyText } from '../layers/node.ts';
import { isPodReady } from '../objects.ts';
import { Cause } from '../reasons.ts';
import { kubectl, onNode, toolArgSafe, type Argv } from '../reproduce.ts';
import { viaDnsClusterIP } from './dns.ts';
import { cause, issueOn, rule, type RootCause, type RuleContext } from './shared.ts';
import type { BypassSymptom } from './symptoms.ts';

export const icmpToClusterIP = rule('icmpToClusterIP', [Cause.ICMPToClusterIP], ({ s }) => {
  const entry = s.pingToClusterIP;
  if (!entry) return undefined;
  const replies = `${entry.icmp.received}/${entry.icmp.sent} replies`;
  return cause(
    Layer.Service,
    Cause.ICMPToClusterIP,
    'error',
    `Ping from ${entry.vantage.label} to ClusterIP ${entry.icmp.ip}: ${replies}; a ClusterIP is a virtual address that only answers pings when ` +
      `kube-proxy runs in IPVS mode, so this says nothing about the Service.`,
    'Fix: check a Service with protocol TCP, UDP or HTTP, or ping a pod destination (spec.destination.pod or podSelector).',
    [],
  );
});

export const bridgeNetfilterDisabled = rule('bridgeNetfilterDisabled', [Cause.BridgeNetfilterDisabled], ({ a, s }) => {
  const bypass = s.bypass;
  const bridge = bypass && issueOn(a.node.bridgeNetfilterOff, bypass.node);
  if (!bypass || !bridge) return undefined;
  return cause(
    Layer.Node,
    Cause.BridgeNetfilterDisabled,
    'failure',
    `${bypass.text}; ${bridge.text}, so bridged replies bypass the service NAT.`,
    `Fix: load br_netfilter and set net.bridge.bridge-nf-call-iptables=1 on node ${bridge.node} (persist it in /etc/sysctl.d).`,
    [...bypass.reproduce, onNode(a.repro, bridge.node, ['sysctl', 'net.bridge.bridge-nf-call-iptables'])],
  );
});

/**
 * What to do about the service proxy on a node, from what the API says about kube-proxy there: it is
 * missing while other nodes run it, it is not ready, it runs but the node has no rules, or no
 * kube-proxy pod exists at all (a host process, or a CNI that replaces it).
 */
function proxyFix(a: Analysis, node: string | undefined, clusterIP: string | undefined): string {
  const where = node ? `node ${node}` : 'the source node';
  const rules = clusterIP ? ` for ${clusterIP}` : '';
  const proxy = a.node.kubeProxy;
  const pods = node ? (proxy.byNode.get(node) ?? []) : [];
  const pod = pods[0]?.metadata?.name;
  if (proxy.error || !node)
    return `Fix: make sure kube-proxy (or the CNI's service proxy) runs on ${where} and has programmed rules${rules}; check its pod and logs.`;
  if (pods.length === 0 && proxy.anyFound)
    return `Fix: kube-proxy runs on other nodes but not on ${where}: check its DaemonSet's nodeSelector and tolerations, and the node's events.`;
  if (pods.length === 0)
    return (
      `Fix: no kube-proxy pod runs in the cluster: if kube-proxy runs as a host process or the CNI replaces it, check it on ${where} (its ` +
      `logs, its rules${rules}).`
    );
  if (!pods.some(isPodReady))
    return `Fix: kube-proxy pod ${pod} on ${where} is not ready: its events and logs say why (kubectl -n ${DNS_NAMESPACE} logs ${pod}).`;
  return (
    `Fix: kube-proxy pod ${pod} runs on ${where} but the service translation${rules} fails: its logs show why it does not sync (kubectl -n ` +
    `${DNS_NAMESPACE} logs ${pod}).`
  );
}

function proxyPods(node: string | undefined): Argv[] {
  const selector = `${KUBE_PROXY_LABEL.key}=${KUBE_PROXY_LABEL.value}`;
  return node ? [kubectl(DNS_NAMESPACE, 'get', 'pods', '-l', selector, '-o', 'wide', `--field-selector=spec.nodeName=${node}`)] : [];
}

/** The ClusterIP failed while the pods answered directly: the translation is proven broken. */
function bypassed(a: Analysis, bypass: BypassSymptom): RootCause {
  const { node } = bypass;
  const clusterIP = a.service.clusterIP ?? bypass.attempt.connect?.ip ?? '';
  const details = [issueOn(a.node.serviceRulesMissing, node)?.text, kubeProxyText(a.node, node)].filter((text): text is string => Boolean(text));
  const ruleCheck =
    node && toolArgSafe(clusterIP) ? [onNode(a.repro, node, ['sh', '-c', 'iptables-save -t nat | grep -F -- "$1"', 'netcheck', clusterIP])] : [];
  return cause(
    Layer.Service,
    Cause.ServiceProxyMissing,
    'failure',
    sentence(
      `${bypass.text}: the service translation for ${clusterIP} is not ` +
        `working${node ? ` on node ${node}` : ''}${details.length ? ` (${details.join('; ')})` : ''}`,
    ),
    proxyFix(a, node, clusterIP),
    [...bypass.reproduce, ...proxyPods(node), ...ruleCheck],
  );
}

/** A lookup through the kube-dns ClusterIP got no answer, and the service proxy on the node is in question. */
function lookupThroughProxy(a: Analysis, s: RuleContext['s']): RootCause | undefined {
  const lookup = s.lookup;
  if (!lookup?.noAnswer || !lookup.proxyInQuestion) return undefined;
  const node = lookup.node;
  const details = [
    lookup.clusterIPBroken ? `the ClusterIP of ${a.destinationText} fails too while its pods answer directly` : undefined,
    a.node.serviceRulesMissing[0]?.text,
    kubeProxyText(a.node, node),
  ].filter(Boolean);
  const where = node ?? 'the source node';
  return cause(
    Layer.Service,
    Cause.ServiceProxyMissing,
    'failure',
    sentence(`${lookup.text}${viaDnsClusterIP(a, lookup.lookup)}; ${details.join('; ')}: the service proxy is not working on node ${where}`),
    `${proxyFix(a, node, a.node.serviceRulesMissing[0] ? a.service.clusterIP : undefined)} DNS and every ClusterIP depend on it.`,
    [...lookup.reproduce, ...proxyPods(node)],
  );
}

/** The ClusterIP failed, nothing below explained the path, and the node shows the service proxy missing. */
function unprovenProxy(a: Analysis, s: RuleContext['s']): RootCause | undefined {
  const path = s.path;
  if (!path?.attempt || !a.service.applicable) return undefined;
  if (a.node.serviceRulesMissing.length === 0 && !kubeProxyBroken(a.node, path.node)) return undefined;
  const proxy = [a.node.serviceRulesMissing[0]?.text, kubeProxyText(a.node, path.node)].filter(Boolean).join('; ');
  return cause(
    Layer.Service,
    Cause.ServiceProxyMissing,
    'failure',
    sentence(`${path.text}; ${proxy}`),
    proxyFix(a, path.node, a.service.clusterIP),
    path.reproduce,
  );
}

export const serviceProxyMissing = rule('serviceProxyMissing', [Cause.ServiceProxyMissing], ({ a, s }) => {
  if (s.bypass) return bypassed(a, s.bypass);
  return lookupThroughProxy(a, s) ?? unprovenProxy(a, s);
});

export const serviceUnreachable = rule('serviceUnreachable', [Cause.ServiceUnreachable], ({ s }) => {
  const external = s.external;
  if (external?.attempt && external.internal && !external.refused) {
    // A cluster name given as a host: the ladder below (endpoints, pods, policies) was not collected.
    return cause(
      Layer.Service,
      Cause.ServiceUnreachable,
      'failure',
      `${external.text}; ${external.host} is a cluster name, so the traffic never left the cluster, but a host destination skips the Service's ` +
        `endpoints, pods and policies.`,
      'Fix: point the check at the Service (spec.destination.service and namespace) to get the layer-by-layer diagnosis.',
      external.reproduce,
    );
  }
  const path = s.path;
  if (!path?.attempt) return undefined;
  return cause(
    Layer.Service,
    Cause.ServiceUnreachable,
    'failure',
    sentence(`${path.text}; no backend was probed directly and no layer below explains it`),
    `Fix: test a backend pod IP directly and the service rules on node ${path.node ?? 'the source node'} (kube-proxy logs).`,
    path.reproduce,
  );
});
