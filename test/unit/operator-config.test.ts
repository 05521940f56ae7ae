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
