// Runs config/argocd/networkcheck-health.lua in a real Lua 5.1 interpreter (Argo CD uses gopher-lua,
// which follows Lua 5.1) against sample NetworkCheck objects.
// Needs the Debian package lua5.1 (`apt-get install -y lua5.1`); LUA_BIN overrides the binary.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const LUA_BIN = process.env.LUA_BIN ?? 'lua5.1';
const ARGOCD_DIR = fileURLToPath(new URL('../../config/argocd/', import.meta.url));
const HEALTH_SCRIPT = join(ARGOCD_DIR, 'networkcheck-health.lua');
const HARNESS = join(ARGOCD_DIR, 'test-harness.lua');
const CONFIGMAP_PATCH = join(ARGOCD_DIR, 'argocd-cm-patch.yaml');
const HEALTH_KEY = 'resource.customizations.health.netcheck.dev_NetworkCheck';

/**
 * A Lua string literal for any JavaScript string: printable ASCII passes through, everything else
 * (quotes, backslashes, control characters, UTF-8 bytes) becomes a 3-digit decimal escape, which
 * Lua 5.1 reads unambiguously even when a digit follows.
 */
function luaString(text: string): string {
  let literal = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const printable = byte >= 0x20 && byte <= 0x7e && byte !== 0x22 && byte !== 0x5c;
    literal += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${literal}"`;
}

/** A Lua table constructor for a JSON value (JSON arrays become 1-based sequences; null fields are omitted). */
function toLuaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot encode ${value} for Lua`);
    return String(value);
  }
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== null && field !== undefined)
      .map(([key, field]) => `[${luaString(key)}] = ${toLuaLiteral(field)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new Error(`cannot encode a ${typeof value} for Lua`);
}

interface Health {
  status: string;
  message: string;
}

let workDir: string;

function runHealthCheck(object: unknown): Health {
  const objectFile = join(workDir, 'object.lua');
  writeFileSync(objectFile, `return ${toLuaLiteral(object)}\n`);
  const run = spawnSync(LUA_BIN, [HARNESS, HEALTH_SCRIPT, objectFile], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`lua exited with ${run.status}: ${run.stderr}`);
  const newline = run.stdout.indexOf('\n');
  return { status: run.stdout.slice(0, newline), message: run.stdout.slice(newline + 1) };
}

function check(generation: number, status?: Record<string, unknown>): Record<string, unknown> {
  const object: Record<string, unknown> = {
    apiVersion: 'netcheck.dev/v1alpha1',
    kind: 'NetworkCheck',
    metadata: { name: 'web-to-backend', namespace: 'shop', generation },
    spec: { protocol: 'TCP' },
  };
  if (status) object.status = status;
  return object;
}

describe('Argo CD health check (Lua, run in a real interpreter)', () => {
  before(() => {
    const probe = spawnSync(LUA_BIN, ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(`Lua interpreter '${LUA_BIN}' not found or broken: install it with 'apt-get install -y lua5.1' (or set LUA_BIN)`);
    }
    workDir = mkdtempSync(join(tmpdir(), 'argocd-health-'));
  });
  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('Healthy -> Healthy, with the summary as message', () => {
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', summary: 'TCP 10.96.0.12:8080 connected in 2 ms.' }))).to.deep.equal({
      status: 'Healthy',
      message: 'TCP 10.96.0.12:8080 connected in 2 ms.',
    });
  });

  it('Unhealthy -> Degraded, with layer/reason and the summary', () => {
    const health = runHealthCheck(
      check(1, {
        observedGeneration: 1,
        result: 'Unhealthy',
        failedLayer: 'NetworkPolicy',
        reason: 'BlockedByNetworkPolicy',
        summary: 'NetworkPolicy shop/deny-all selects the destination pod and allows no ingress from web-1.',
      }),
    );
    expect(health).to.deep.equal({
      status: 'Degraded',
      message: 'NetworkPolicy/BlockedByNetworkPolicy: NetworkPolicy shop/deny-all selects the destination pod and allows no ingress from web-1.',
    });
  });

  it('Error -> Degraded, falling back to the result when there is no summary', () => {
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Error', reason: 'ProbePodFailed' }))).to.deep.equal({
      status: 'Degraded',
      message: 'ProbePodFailed: Error',
    });
  });

  it('Pending and Running -> Progressing', () => {
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Pending' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Waiting for the first result',
    });
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Running' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Check is running',
    });
  });

  it('no status yet -> Progressing', () => {
    expect(runHealthCheck(check(1))).to.deep.equal({ status: 'Progressing', message: 'Waiting for the operator to pick up the check' });
  });

  it('observedGeneration behind metadata.generation -> Progressing, even if the old result was Healthy', () => {
    expect(runHealthCheck(check(4, { observedGeneration: 3, result: 'Healthy' }))).to.deep.equal({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 4',
    });
    expect(runHealthCheck(check(1, { result: 'Healthy' })).status).to.equal('Progressing');
  });

  it('Stalled=True -> Degraded with the condition message, whatever the result', () => {
    const stalled = check(2, {
      observedGeneration: 2,
      result: 'Healthy',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'invalid', observedGeneration: 2, lastTransitionTime: '2025-06-02T10:00:00Z' },
        {
          type: 'Stalled',
          status: 'True',
          reason: 'InvalidSchedule',
          message: "spec.schedule: field 'hour' value '25' is out of range 0-23",
          observedGeneration: 2,
          lastTransitionTime: '2025-06-02T10:00:00Z',
        },
      ],
    });
    expect(runHealthCheck(stalled)).to.deep.equal({
      status: 'Degraded',
      message: "spec.schedule: field 'hour' value '25' is out of range 0-23",
    });
  });

  it('ignores Stalled=False and a Stalled=True left over from an older generation', () => {
    const conditions = (stalledStatus: string, conditionGeneration: number) => [
      { type: 'Stalled', status: stalledStatus, reason: 'InvalidSchedule', message: 'old', observedGeneration: conditionGeneration, lastTransitionTime: '2025-06-02T10:00:00Z' },
    ];
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', conditions: conditions('False', 3) })).status).to.equal('Healthy');
    expect(runHealthCheck(check(3, { observedGeneration: 3, result: 'Healthy', conditions: conditions('True', 2) })).status).to.equal('Healthy');
  });

  it('passes hostile strings through the Lua encoding unchanged', () => {
    const summary = 'quote " backslash \\ newline \n tab \t ]] [[ --[==[ \\065 ü 日本 🚀 nul \u0000 end';
    expect(runHealthCheck(check(1, { observedGeneration: 1, result: 'Healthy', summary }))).to.deep.equal({ status: 'Healthy', message: summary });
  });

  it('the argocd-cm patch carries exactly the Lua file under the Argo CD key', () => {
    const patch = parse(readFileSync(CONFIGMAP_PATCH, 'utf8')) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    expect(patch.kind).to.equal('ConfigMap');
    expect(patch.metadata.name).to.equal('argocd-cm');
    expect(Object.keys(patch.data)).to.deep.equal([HEALTH_KEY]);
    expect(patch.data[HEALTH_KEY]).to.equal(readFileSync(HEALTH_SCRIPT, 'utf8'));
  });
});
