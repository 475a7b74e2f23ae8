import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { main } from './main.js';

describe('cli: trellis controller flags', () => {
  it('refuses a --gitops-default-service-account that is not a ServiceAccount name, before connecting, exit 2 without a stack', async () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (d: Buffer) => (text += d));
    const code = await main(
      ['controller', '--gitops-default-service-account', 'Bad_Name', '--kubeconfig', '/nonexistent/kubeconfig'],
      { out: new PassThrough(), err, env: {}, cwd: process.cwd() },
    );
    assert.equal(code, 2);
    assert.match(
      text,
      /^error: --gitops-default-service-account must be a ServiceAccount name \(lower-case DNS subdomain\), got "Bad_Name"/,
    );
    assert.doesNotMatch(text, /\n\s+at /);
  });
});
