// Layer 0, the source: does the pod (or node) the probe stands for exist and run? The source itself
// is identified once in the context (every layer reads it); this layer renders its state.
import { listText, uniq } from '../../util/text.ts';
import type { AnalysisBase, SourceAnalysis, Vantage } from '../analysis.ts';
import { formatLabels } from '../labels.ts';
import { nodeCondition } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { podRef, podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly source: SourceAnalysis;
  }
}

const NAME = 'Source';

export const sourceLayer = defineLayer({
  name: NAME,
  condition: 'SourceReady',
  key: 'source',
  analyse: (context) => context.source,
  finding: sourceFinding,
});

/** The source pod is gone or stopped: the probe stood in for a pod that no longer runs. */
export function sourceGone(source: SourceAnalysis): 'deleted' | 'stopped' | undefined {
  if (source.kind !== 'pod') return undefined;
  if (source.deleted.length > 0 && source.pods.length === 0) return 'deleted';
  if (source.pods.length > 0 && source.notRunning.length === source.pods.length) return 'stopped';
  return undefined;
}

function sourceFinding(a: AnalysisBase) {
  const { source } = a;
  if (source.kind === 'node') return nodeSourceFinding(a);
  if (source.kind === 'newPod') {
    const where = a.vantages.length ? ` on ${nodesOf(a.vantages)}` : '';
    return finding(
      NAME,
      'True',
      LayerReason.NewProbePod,
      `A new probe pod with labels ${formatLabels(source.newPodLabels)} ran in namespace ${a.namespace}${where}.`,
    );
  }
  const gone = sourceGone(source);
  if (gone === 'deleted')
    return finding(NAME, 'False', Cause.SourceNotReady, `Source pod ${a.namespace}/${listText(source.deleted)} was deleted during the run.`);
  if (gone === 'stopped') {
    const states = listText(source.notRunning.map((pod) => `${podRef(pod)} is ${podStateText(pod)}`));
    return finding(NAME, 'False', Cause.SourceNotReady, `Source pod ${states}; a probe needs a Running source.`);
  }
  if (source.pods.length === 0) {
    return finding(
      NAME,
      'Unknown',
      LayerReason.EvidenceUnavailable,
      `No source pod is known${source.evidenceError ? ` (${source.evidenceError})` : ''}.`,
    );
  }
  const running = source.pods.filter((pod) => pod.status?.phase === 'Running');
  const ips = running.map((pod) => {
    const node = pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : '';
    return `${podRef(pod)} (${pod.status?.podIP ?? 'no IP'}${node}, dnsPolicy ${pod.spec?.dnsPolicy ?? 'ClusterFirst'})`;
  });
  const stale = source.evidenceError ? ` (could not re-read it: ${source.evidenceError}; it was Running when the run started)` : '';
  return finding(NAME, 'True', LayerReason.SourcePodRunning, `Source ${running.length === 1 ? 'pod' : 'pods'} ${listText(ips)} Running${stale}.`);
}

function nodeSourceFinding(a: AnalysisBase) {
  const { source } = a;
  const ready = nodeCondition(source.nodeObject, 'Ready');
  if (source.nodeObject && ready !== 'True')
    return finding(NAME, 'False', Cause.NodeNotReady, `Source node ${source.node} is not Ready (Ready=${ready ?? 'missing'}).`);
  if (source.nodeObject)
    return finding(NAME, 'True', LayerReason.SourceNodeReady, `Source node ${source.node} is Ready; the probe ran in its host network.`);
  const why = a.evidence.nodes.ok ? 'not found' : a.evidence.nodes.error;
  return finding(NAME, 'Unknown', LayerReason.EvidenceUnavailable, `Source node ${source.node} could not be read (${why}).`);
}

function nodesOf(vantages: Vantage[]): string {
  return listText(uniq(vantages.map((v) => v.node).filter((n): n is string => Boolean(n))).map((n) => `node ${n}`));
}
