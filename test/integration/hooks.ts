// Mocha root hooks for the integration tier: one real etcd + kube-apiserver for all files,
// with the CRD installed. Loaded with `--require test/integration/hooks.ts`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../support/apiserver.ts';

let plane: ControlPlane | undefined;

export function controlPlane(): ControlPlane {
  if (!plane) throw new Error('the control plane is not running (hooks.ts not loaded?)');
  return plane;
}

export const CRD_FILE = fileURLToPath(new URL('../../crds/netcheck.dev_networkchecks.yaml', import.meta.url));

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000);
    plane = await startControlPlane();
    const applied = plane.kubectl(['apply', '--server-side', '-f', CRD_FILE]);
    if (applied.code !== 0) throw new Error(`CRD apply failed: ${applied.stderr}`);
    const established = plane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/networkchecks.netcheck.dev']);
    if (established.code !== 0) throw new Error(`CRD not established: ${established.stderr}`);
    void readFileSync;
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await plane?.stop();
  },
};
