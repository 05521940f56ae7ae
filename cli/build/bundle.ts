// Bundles the plugin into one CommonJS file, cli/dist/kubectl-netcheck.cjs: the npm bin (Node strips
// TypeScript types only outside node_modules, so an installed package must ship JavaScript) and the
// script a single-file executable embeds (a SEA runs one script and can require only built-in
// modules, so every dependency has to be inside it). esbuild does both in well under a second.
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE = `${ROOT}cli/dist/kubectl-netcheck.cjs`;

export async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [`${ROOT}cli/bin.ts`],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    // ws loads these native accelerators when present and works without them.
    external: ['bufferutil', 'utf-8-validate'],
    logLevel: 'warning',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
  chmodSync(BUNDLE, 0o755);
  return BUNDLE;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = await bundle();
  console.log(`${file} (${Math.round(statSync(file).size / 1024)} KiB)`);
}
