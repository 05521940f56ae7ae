// Before any network finding: could the check be evaluated at all? A probe that did not run, or a
// source pod that is gone, leaves nothing to diagnose.
import { listText } from '../../util/text.ts';
import { Layer } from '../layers/index.ts';
import { sourceGone } from '../layers/source.ts';
import { Cause, PROBE_LAYER } from '../reasons.ts';
import { kubectl } from '../reproduce.ts';
import { podRef, podStateText } from '../text.ts';
import { cause, rule } from './shared.ts';

export const probeFailed = rule('probeFailed', [Cause.ProbeFailed], ({ a }) => {
  if (!a.probeProblem) return undefined;
  const pods = a.input.outputs.map((output) => output.pod).filter(Boolean);
  return cause(
    PROBE_LAYER,
    Cause.ProbeFailed,
    'error',
    `The probe could not test the path: ${a.probeProblem}.`,
    'Fix: this is an operator or probe-image problem, not a network finding; look at the probe pod log (the full result document) and report it if ' +
      'it persists.',
    pods.slice(0, 2).map((pod) => kubectl(a.namespace, 'logs', `pod/${pod}`)),
  );
});

export const sourceNotReady = rule('sourceNotReady', [Cause.SourceNotReady], ({ a }) => {
  const { source } = a;
  const gone = sourceGone(source);
  if (!gone) return undefined;
  const what =
    gone === 'deleted'
      ? `source pod ${a.namespace}/${listText(source.deleted)} was deleted`
      : `source ${listText(source.notRunning.map((pod) => `pod ${podRef(pod)} is ${podStateText(pod)}`))}`;
  const name = gone === 'deleted' ? source.deleted[0] : source.notRunning[0]?.metadata?.name;
  const fix =
    gone === 'deleted'
      ? 'Fix: recreate the source pod, or point spec.source at one that runs; the check probes from it.'
      : 'Fix: get the source pod Running again (kubectl describe shows why it is not); the check probes from it.';
  const reproduce =
    gone === 'deleted' ? [kubectl(a.namespace, 'get', 'pods', '-o', 'wide')] : name ? [kubectl(a.namespace, 'describe', 'pod', name)] : [];
  return cause(
    Layer.Source,
    Cause.SourceNotReady,
    'error',
    `The check cannot be evaluated: ${what}, and the probe stands in for a Running source.`,
    fix,
    reproduce,
  );
});
