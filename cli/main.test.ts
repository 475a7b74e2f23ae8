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
  it('lists its commands by group on --help and exits 0', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['--help'], streams), 0);
    assert.match(text.out, /Usage: trellis <command>/);
    assert.match(text.out, /\nApplications:\n {2}render +print the objects/);
    assert.match(text.out, /version\s+print the Trellis version/);
  });

  it('names an unknown command, suggests the close one and exits 2 without a stack trace', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['rendr'], streams), 2);
    assert.match(text.err, /^error: unknown command "rendr" \(did you mean "render"\?\)\n/);
    assert.doesNotMatch(text.err, /\n\s+at /);
  });

  it('says an unknown option in its own words, with the close one', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['render', '--definitons', 'x'], streams), 2);
    assert.equal(
      text.err,
      'error: unknown option --definitons (did you mean "--definitions"?)\n\nRun `trellis render --help` for its usage.\n',
    );
  });

  it('says an option lacks its value, or takes none', async () => {
    const a = io();
    assert.equal(await main(['render', '-f'], a.io), 2);
    assert.match(a.text.err, /^error: option --filename needs a value\n/);
    const b = io();
    assert.equal(await main(['webhook', '--cert-dir', 'x', 'extra'], b.io), 2);
    assert.match(b.text.err, /^error: unexpected argument "extra": this command takes options only\n/);
  });

  it('prints the version', async () => {
    const { io: streams, text } = io();
    assert.equal(await main(['version'], streams), 0);
    assert.match(text.out, /^trellis \d+\.\d+\.\d+ \(local control plane: Kubernetes v1\.\d+\.\d+/);
  });
});
