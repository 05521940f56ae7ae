// How the plugin ships: the npm bin is the esbuild bundle (built here, then run as a user's node
// would run it), and the krew manifest template renders to a manifest with the executable on every
// platform. The single-file executable itself is built and driven by test/e2e/cli.test.ts.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { bundle } from '../../cli/build/bundle.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('kubectl netcheck: distribution', function () {
  this.timeout(60_000);

  it('the npm bin is the bundle, which runs on plain node: --version, and exit 2 naming the flag', async () => {
    const file = await bundle();
    expect(file.endsWith(pkg.bin['kubectl-netcheck'])).to.equal(true);
    expect(execFileSync(process.execPath, [file, '--version'], { encoding: 'utf8' }).trim()).to.equal(pkg.version);
    const bad = spawnSync(process.execPath, [file, 'run', '--from', 'pod/web', '--to', 'svc/b:80', '--timeout', 'soon'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/--timeout <duration>.*"soon" is not a duration/);
    expect(bad.stdout).to.equal('');
  });

  it('the krew manifest template renders to a plugin manifest with kubectl-netcheck on each platform', () => {
    const template = readFileSync(new URL('../../cli/krew/netcheck.yaml', import.meta.url), 'utf8');
    const variables = new Set([...template.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...variables].sort()).to.deep.equal(['GITHUB_REPOSITORY', 'SHA256_DARWIN_ARM64', 'SHA256_LINUX_AMD64', 'SHA256_LINUX_ARM64', 'VERSION']);
    const rendered = template.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => (name === 'VERSION' ? pkg.version : name.startsWith('SHA256') ? 'a'.repeat(64) : 'example/netcheck-operator'));
    const manifest = parse(rendered);
    expect(manifest).to.deep.include({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'netcheck' } });
    expect(manifest.spec.version).to.equal(`v${pkg.version}`);
    expect(manifest.spec.shortDescription.length).to.be.at.most(50);
    for (const platform of manifest.spec.platforms) {
      expect(platform.bin).to.equal('kubectl-netcheck');
      expect(platform.sha256).to.match(/^[a-f0-9]{64}$/);
      expect(platform.uri).to.match(new RegExp(`/v${pkg.version}/kubectl-netcheck-`));
    }
  });
});
