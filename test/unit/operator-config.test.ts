// The operator's flags and environment for node inspection (operator/main.ts parseConfig): off unless
// an admin turns it on, a closed set of modes, and a namespace list.
import { expect } from 'chai';
import { parseConfig } from '../../operator/main.ts';

describe('operator configuration: --node-diagnostics', () => {
  it('is Off by default, for every namespace once on', () => {
    expect(parseConfig([], {}).nodeDiagnostics).to.deep.equal({ mode: 'Off', namespaces: ['*'] });
  });

  it('takes the flag before the environment, and a namespace list', () => {
    expect(parseConfig(['--node-diagnostics=Always'], { NODE_DIAGNOSTICS: 'OnFailure' }).nodeDiagnostics.mode).to.equal('Always');
    expect(parseConfig([], { NODE_DIAGNOSTICS: 'OnFailure', NODE_DIAGNOSTICS_NAMESPACES: 'shop, payments' }).nodeDiagnostics)
      .to.deep.equal({ mode: 'OnFailure', namespaces: ['shop', 'payments'] });
  });

  it('refuses a mode it does not know, naming the flag and the modes', () => {
    expect(() => parseConfig(['--node-diagnostics=on'], {})).to.throw('--node-diagnostics must be one of Off, OnFailure, Always, got "on"');
  });
});

describe('operator configuration: --max-ephemeral-per-pod', () => {
  it('caps the ephemeral containers per pod at 5 by default; the flag wins over the environment', () => {
    expect(parseConfig([], {}).probePolicy.maxEphemeralPerPod).to.equal(5);
    expect(parseConfig(['--max-ephemeral-per-pod=12'], { MAX_EPHEMERAL_PER_POD: '3' }).probePolicy.maxEphemeralPerPod).to.equal(12);
    expect(parseConfig([], { MAX_EPHEMERAL_PER_POD: '0' }).probePolicy.maxEphemeralPerPod).to.equal(0);
  });

  it('refuses a value that is not an integer from 0 to 100, naming the flag', () => {
    expect(() => parseConfig(['--max-ephemeral-per-pod=many'], {})).to.throw('--max-ephemeral-per-pod must be an integer from 0 to 100');
    expect(() => parseConfig(['--max-ephemeral-per-pod=101'], {})).to.throw('--max-ephemeral-per-pod');
  });
});
