import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../lib/log.js';
import type { CommandIO } from './command.js';
import { runUntilStopped } from './lifecycle.js';

/** A command's IO whose exit is recorded; signals come from an emitter, never the test run's own. */
function harness() {
  const exits: number[] = [];
  const io: CommandIO = {
    out: new PassThrough(),
    err: new PassThrough(),
    env: {},
    cwd: '/',
    exit: (c) => exits.push(c),
  };
  const signals = new EventEmitter();
  return { io, exits, signals };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cli: runUntilStopped', () => {
  it('a body that returns after the signal exits by itself: no forced exit while it shuts down in time', async () => {
    const { io, exits, signals } = harness();
    const run = runUntilStopped(io, { logger: silentLogger, shutdownMs: 100, signals }, async ({ stopped }) => {
      await stopped;
      return 0;
    });
    signals.emit('SIGTERM', 'SIGTERM');
    assert.equal(await run, 0);
    assert.deepEqual(exits, []);
  });

  it('a process a leaked handle keeps alive after it stopped still exits, with the code the command returned', async () => {
    const { io, exits, signals } = harness();
    const run = runUntilStopped(io, { logger: silentLogger, shutdownMs: 50, signals }, async ({ stopped }) => {
      await stopped;
      return 0;
    });
    signals.emit('SIGINT', 'SIGINT');
    assert.equal(await run, 0);
    await sleep(200); // what a leaked worker or socket would keep the process alive for
    assert.deepEqual(exits, [0]);
  });

  it('a shutdown that outlasts its timeout is ended with exit code 1; a second signal ends it with 130', async () => {
    const { io, exits, signals } = harness();
    let release!: () => void;
    const run = runUntilStopped(io, { logger: silentLogger, shutdownMs: 50, signals }, async ({ stopped }) => {
      await stopped;
      await new Promise<void>((r) => (release = r));
      return 0;
    });
    signals.emit('SIGTERM', 'SIGTERM');
    await sleep(150);
    assert.deepEqual(exits, [1]);
    signals.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [1, 130]);
    release();
    await run;
  });

  it('a run that was never signalled arms nothing: it ends when its body returns', async () => {
    const { io, exits, signals } = harness();
    assert.equal(await runUntilStopped(io, { logger: silentLogger, shutdownMs: 20, signals }, async () => 3), 3);
    await sleep(60);
    assert.deepEqual(exits, []);
  });
});
