import { PassThrough } from 'node:stream';
import { main } from '../../cli/main.js';

/** Runs `trellis <args>` in this process and returns its exit code and output. */
export async function trellis(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (d: Buffer) => (text.out += d));
  err.on('data', (d: Buffer) => (text.err += d));
  const code = await main(args, { out, err, env, cwd: process.cwd() });
  return { code, ...text };
}
