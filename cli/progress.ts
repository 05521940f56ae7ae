// Live progress while a check runs: one line for the run itself (waiting for the operator, then the
// probe pods' state), and one line per diagnosis layer that spins until the layer's condition
// arrives, then shows ✓ (True), ✗ (False) or ? (Unknown) with its reason and evidence.
//
// On a terminal listr2 draws the lines and redraws them in place (it is built for exactly this: many
// concurrent lines, each a spinner until it settles). Piped, the same events print as plain lines,
// once each, in ladder order: what a CI log should hold.
import { VERDICT_REASONS } from '../operator/api/conditions.ts';
import type { Condition, NetworkCheck } from '../operator/api/types.generated.ts';
import { LADDER } from '../operator/diagnosis/index.ts';
import { layerCondition, type LayerName } from './path/layers.ts';
import { mark, markOfStatus, type Style } from './style.ts';

export interface Progress {
  /** Every version of the check the watch delivers, until the run is done. */
  update(check: NetworkCheck): void;
  /** The run is over (result written, or given up): settle every line. */
  finish(check: NetworkCheck | undefined): Promise<void>;
}

const LAYER_WIDTH = Math.max(...LADDER.map((layer) => layer.length));
const TEXT_WIDTH = 110;

/** The conditions of the check's current generation (a re-run's old layers are not news). */
export function currentLayers(check: NetworkCheck): Map<LayerName, Condition> {
  const generation = check.metadata?.generation;
  const found = new Map<LayerName, Condition>();
  for (const layer of LADDER as LayerName[]) {
    const condition = layerCondition(check, layer);
    if (condition && (generation === undefined || condition.observedGeneration === generation) && check.status?.lastRun?.completionTime) found.set(layer, condition);
  }
  return found;
}

/** "DNS         NameResolved: backend resolved to 10.96.12.7 from 10.96.0.10 (1 query, 1 ms)". */
export function layerText(layer: LayerName, condition: Condition): string {
  const first = condition.message.split(/(?<=\.)\s+/)[0] ?? '';
  const text = `${layer.padEnd(LAYER_WIDTH)}  ${condition.reason}: ${first}`;
  return text.length > TEXT_WIDTH ? `${text.slice(0, TEXT_WIDTH - 1)}…` : text;
}

/** What the run is doing, from Reconciling/Stalled/Ready. */
export function runText(check: NetworkCheck | undefined): string {
  const conditions = check?.status?.conditions ?? [];
  // A failing verdict is Stalled too (CheckUnhealthy / CheckError, for GitOps health): that is a finished run.
  const stalled = conditions.find((c) => c.type === 'Stalled' && c.status === 'True' && !VERDICT_REASONS.has(c.reason));
  if (stalled) return `Stalled: ${stalled.reason}: ${stalled.message}`;
  const reconciling = conditions.find((c) => c.type === 'Reconciling' && c.status === 'True');
  if (reconciling) return reconciling.message;
  if (check?.status?.lastRun?.completionTime) return `Run ${check.status.lastRun.id} finished: ${check.status.result}`;
  return 'Waiting for the operator to start the run';
}

/** Piped: each line once, when its news arrives. */
export class PlainProgress implements Progress {
  private readonly style: Style;
  private readonly write: (line: string) => void;
  private lastRun = '';
  private readonly printed = new Set<string>();

  constructor(style: Style, write: (line: string) => void) {
    this.style = style;
    this.write = write;
  }

  update(check: NetworkCheck): void {
    const run = runText(check);
    if (run !== this.lastRun) { this.lastRun = run; this.write(`${this.style.c.dim('…')} ${run}`); }
    for (const [layer, condition] of currentLayers(check)) {
      if (this.printed.has(layer)) continue;
      this.printed.add(layer);
      this.write(`${mark(this.style, markOfStatus(condition.status))} ${layerText(layer, condition)}`);
    }
  }

  async finish(check: NetworkCheck | undefined): Promise<void> {
    if (check) this.update(check);
  }
}

interface Deferred<T> { promise: Promise<T>; resolve: (value: T) => void }
function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** On a terminal: listr2 lines, a spinner each until the condition arrives. */
export class LiveProgress implements Progress {
  private readonly layers = new Map<LayerName, Deferred<Condition | undefined>>((LADDER as LayerName[]).map((layer) => [layer, deferred()]));
  private readonly run = deferred<NetworkCheck | undefined>();
  private runTitle: (text: string) => void = () => {};
  private done: Promise<unknown> = Promise.resolve();

  async start(): Promise<void> {
    const { Listr, ListrDefaultRendererLogLevels: Level } = await import('listr2');
    const tasks = [
      { title: runText(undefined), task: async (_: unknown, task: { title: string }) => {
        this.runTitle = (text) => { task.title = text; };
        const check = await this.run.promise;
        task.title = runText(check);
        if (!check?.status?.lastRun?.completionTime) throw new Error(task.title);
      } },
      ...(LADDER as LayerName[]).map((layer) => ({ title: `${layer.padEnd(LAYER_WIDTH)}  waiting`, task: async (_: unknown, task: { title: string; skip: (message?: string) => void }) => {
        const condition = await this.layers.get(layer)!.promise;
        task.title = condition ? layerText(layer, condition) : `${layer.padEnd(LAYER_WIDTH)}  no result`;
        if (!condition || condition.status === 'Unknown') return task.skip();
        if (condition.status === 'False') throw new Error(task.title);
      } })),
    ];
    const list = new Listr(tasks, {
      concurrent: true, exitOnError: false, registerSignalListeners: false,
      rendererOptions: {
        showErrorMessage: false, collapseErrors: false, collapseSkips: true, suffixSkips: false, showSkipMessage: false,
        icon: { [Level.COMPLETED]: '✓', [Level.FAILED]: '✗', [Level.SKIPPED_WITH_COLLAPSE]: '?', [Level.SKIPPED_WITHOUT_COLLAPSE]: '?' },
      },
    });
    this.done = list.run().catch(() => undefined);
  }

  update(check: NetworkCheck): void {
    this.runTitle(runText(check));
    for (const [layer, condition] of currentLayers(check)) this.layers.get(layer)!.resolve(condition);
  }

  async finish(check: NetworkCheck | undefined): Promise<void> {
    if (check) this.update(check);
    this.run.resolve(check);
    for (const entry of this.layers.values()) entry.resolve(undefined);
    await this.done;
  }
}

export async function makeProgress(style: Style, write: (line: string) => void): Promise<Progress> {
  if (!style.live) return new PlainProgress(style, write);
  const live = new LiveProgress();
  await live.start();
  return live;
}

