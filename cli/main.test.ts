import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { main } from './main.js';

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (d: Buffer) => (text.out += d));
  err.on('data', (d: Buffer) => (text.err += d));
  return { io: { out, err, env: {}, cwd: process.cwd() }, text };
}

describe('cli: trellis', () => {
  it('lists its commands on --help and exits 0', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['--help'], streams), 0);
    assert.match(text.out, /Usage: trellis <command>/);
    assert.match(text.out, /version\s+print the Trellis version/);
  });

  it('names an unknown command and exits 2 without a stack trace', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['frobnicate'], streams), 2);
    assert.match(text.err, /^error: unknown command "frobnicate"/);
    assert.doesNotMatch(text.err, /\n\s+at /);
  });

  it('prints the version', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['version'], streams), 0);
    assert.match(text.out, /^trellis \d+\.\d+\.\d+ \(local control plane: Kubernetes v1\.\d+\.\d+/);
  });
});
