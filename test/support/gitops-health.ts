// The two GitOps health checks run as their tools run them: kstatus (Flux) through the Go helper
// built from sigs.k8s.io/cli-utils (test/tools/kstatus), and the Argo CD Lua health check in a real
// Lua 5.1 interpreter (Argo CD's gopher-lua follows Lua 5.1). Used by the unit test of the Lua and
// the integration test that feeds both the NetworkChecks the API server stored.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LUA_BIN = process.env.LUA_BIN ?? 'lua5.1';
export const ARGOCD_DIR = fileURLToPath(new URL('../../config/argocd/', import.meta.url));
export const HEALTH_SCRIPT = join(ARGOCD_DIR, 'networkcheck-health.lua');
const HARNESS = join(ARGOCD_DIR, 'test-harness.lua');
const KSTATUS_BUILD = fileURLToPath(new URL('../tools/kstatus/build.sh', import.meta.url));

export interface Health {
  status: string;
  message: string;
}

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
export function toLuaLiteral(value: unknown): string {
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

/** Runs networkcheck-health.lua on objects, as Argo CD does (the object in the global `obj`). */
export class ArgoHealth {
  private readonly workDir: string;

  private constructor(workDir: string) {
    this.workDir = workDir;
  }

  /** Fails with the install command when the interpreter is missing. */
  static open(): ArgoHealth {
    const probe = spawnSync(LUA_BIN, ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(`Lua interpreter '${LUA_BIN}' not found or broken: install it with 'apt-get install -y lua5.1' (or set LUA_BIN)`);
    }
    return new ArgoHealth(mkdtempSync(join(tmpdir(), 'argocd-health-')));
  }

  of(object: unknown): Health {
    const objectFile = join(this.workDir, 'object.lua');
    writeFileSync(objectFile, `return ${toLuaLiteral(object)}\n`);
    const run = spawnSync(LUA_BIN, [HARNESS, HEALTH_SCRIPT, objectFile], { encoding: 'utf8', timeout: 10_000 });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`lua exited with ${run.status}: ${run.stderr}`);
    const newline = run.stdout.indexOf('\n');
    return { status: run.stdout.slice(0, newline), message: run.stdout.slice(newline + 1) };
  }

  close(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** kstatus's verdict on objects, computed by the helper built from cli-utils (never built here: run-all.sh builds it). */
export class Kstatus {
  readonly binary: string;

  private constructor(binary: string) {
    this.binary = binary;
  }

  static open(): Kstatus {
    try {
      return new Kstatus(execFileSync('bash', [KSTATUS_BUILD, '--cached-only'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    } catch (err) {
      throw new Error(`${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
    }
  }

  /** The status and message kstatus computes; asynchronous so that an in-process controller keeps running. */
  of(object: unknown): Promise<Health> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => { stdout += chunk; });
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) reject(new Error(`kstatus exited with ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout) as Health);
      });
      child.stdin.end(JSON.stringify(object));
    });
  }
}
