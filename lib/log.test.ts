import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from './log.js';

describe('lib: createLogger', () => {
  it('writes JSON lines with the level as a name and secrets redacted', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d));
    const logger = createLogger({ name: 'controller', level: 'debug', destination: out });
    logger.warn({ token: 'abc' }, 'waiting for the API server');
    logger.debug({}, 'details');
    await new Promise((r) => setImmediate(r));
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.level),
      ['warn', 'debug'],
    );
    assert.equal(lines[0]!.name, 'controller');
    assert.equal(lines[0]!.token, '[redacted]');
    assert.equal(lines[0]!.msg, 'waiting for the API server');
  });
});
