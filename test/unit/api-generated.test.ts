// One source of truth: the committed CRD and TypeScript types must be exactly what
// operator/api/schema.ts generates. Run `npm run generate` after changing the schema.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { CRD_PATH, TYPES_PATH, renderCRD, renderTypes } from '../../operator/api/generate.ts';
import { DEFAULT_PROBE_IMAGE } from '../../operator/api/defaults.ts';
import { readVersions } from '../support/cluster.ts';

describe('generated API artefacts', () => {
  it('crds/ matches the schema (run npm run generate)', () => {
    expect(readFileSync(CRD_PATH, 'utf8')).to.equal(renderCRD());
  });
  it('operator/api/types.generated.ts matches the schema (run npm run generate)', () => {
    expect(readFileSync(TYPES_PATH, 'utf8')).to.equal(renderTypes());
  });
  it('describes every property, so kubectl explain teaches the API', () => {
    const crd = parse(readFileSync(CRD_PATH, 'utf8'));
    const missing: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string) => {
      for (const [key, prop] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (path === '' && key === 'metadata') continue;
        if (!prop.description) missing.push(`${path}.${key}`);
        walk(prop, `${path}.${key}`);
        if (prop.items) walk(prop.items as Record<string, unknown>, `${path}.${key}[]`);
      }
    };
    walk(crd.spec.versions[0].schema.openAPIV3Schema, '');
    expect(missing).to.deep.equal([]);
  });
  it('the default probe image is the one the local cluster builds', () => {
    expect(readVersions().PROBE_IMAGE).to.equal(DEFAULT_PROBE_IMAGE);
  });
});
