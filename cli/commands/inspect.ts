// kubectl netcheck get / describe / pcap: reading existing checks. The user's own rights decide what
// they see; pcap reads the capture Secret with them (the operator never reads Secrets back).
import { writeFileSync } from 'node:fs';
import { CAPTURE_SECRET_DATA_KEY } from '../../operator/capture/secret.ts';
import { CommandError, ExitCode, type ExitCodeValue } from '../errors.ts';
import type { Io } from '../io.ts';
import { Checks, loadKubeConfig, namespaceOf, type ConnectionFlags } from '../kube.ts';
import { renderDescribe } from '../render/describe.ts';
import { renderTable } from '../render/table.ts';

export interface GetFlags extends ConnectionFlags { allNamespaces?: boolean; selector?: string }
export interface PcapFlags extends ConnectionFlags { output?: string; point?: 'source' | 'destination' }

function connect(flags: ConnectionFlags): { checks: Checks; namespace: string } {
  const kc = loadKubeConfig(flags);
  return { checks: new Checks(kc), namespace: namespaceOf(kc, flags) };
}

export async function getCommand(name: string | undefined, flags: GetFlags, io: Io): Promise<ExitCodeValue> {
  const { checks, namespace } = connect(flags);
  const all = Boolean(flags.allNamespaces) && !name;
  const list = name ? [await checks.get(namespace, name)] : await checks.list(all ? undefined : namespace, flags.selector);
  if (list.length === 0) {
    io.err(all ? 'No NetworkChecks found.' : `No NetworkChecks found in namespace ${namespace}.`);
    return ExitCode.Healthy;
  }
  const sorted = [...list].sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  for (const line of renderTable(sorted, io.style, io.now(), all)) io.out(line);
  return ExitCode.Healthy;
}

export async function describeCommand(name: string, flags: ConnectionFlags, io: Io): Promise<ExitCodeValue> {
  const { checks, namespace } = connect(flags);
  const check = await checks.get(namespace, name);
  for (const line of renderDescribe(check, io.style, io.now())) io.out(line);
  return ExitCode.Healthy;
}

export async function pcapCommand(name: string, flags: PcapFlags, io: Io): Promise<ExitCodeValue> {
  const { checks, namespace } = connect(flags);
  const check = await checks.get(namespace, name);
  const capture = check.status?.capture;
  if (!capture) throw new CommandError(`networkcheck ${namespace}/${name} has no capture: set spec.capture.when (or run with --capture --keep)`);
  const wanted = flags.point === 'destination' ? 'Destination' : 'Source';
  const point = capture.points?.find((p) => p.point === wanted && p.secret);
  if (capture.state !== 'Kept' || !point?.secret) {
    throw new CommandError(`networkcheck ${namespace}/${name}: the latest capture (run ${capture.runId ?? '?'}) is ${capture.state ?? 'unknown'}${capture.state === 'Kept' ? ` but has no ${wanted.toLowerCase()} pcap` : ''}; no pcap to write`);
  }
  const data = await checks.secretData(namespace, point.secret, CAPTURE_SECRET_DATA_KEY);
  const file = flags.output ?? `${name}.pcap`;
  if (file === '-') io.raw(data);
  else writeFileSync(file, data);
  io.err(`${file === '-' ? 'wrote' : `wrote ${file}:`} ${data.byteLength} bytes, run ${capture.runId}, ${wanted.toLowerCase()} ${point.pod}${point.truncated ? ' (truncated to the size cap)' : ''}`);
  return ExitCode.Healthy;
}
