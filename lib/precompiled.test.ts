import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { precompiledFile, readPrecompiled } from './precompiled.js';

describe('lib: readPrecompiled', () => {
  let dir: string;
  let sources: string;
  let file: string;
  const at = (f: string, seconds: number) => utimesSync(f, seconds, seconds);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-precompiled-'));
    sources = path.join(dir, 'src');
    mkdirSync(path.join(sources, 'sub'), { recursive: true });
    writeFileSync(path.join(sources, 'a.cue'), 'a');
    writeFileSync(path.join(sources, 'sub', 'b.cue'), 'b');
    writeFileSync(path.join(sources, 'notes.txt'), 'not a source');
    file = path.join(dir, 'out.json');
    writeFileSync(file, '{"value":1}');
    for (const f of [path.join(sources, 'a.cue'), path.join(sources, 'sub', 'b.cue'), path.join(sources, 'notes.txt')])
      at(f, 1000);
    at(file, 2000);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the file when no source is newer', () => {
    assert.deepEqual(readPrecompiled(file, sources, /\.cue$/), { value: 1 });
  });

  it('answers nothing when a source, at any depth, was changed after the build', () => {
    at(path.join(sources, 'sub', 'b.cue'), 3000);
    assert.equal(readPrecompiled(file, sources, /\.cue$/), undefined);
  });

  it('ignores files that are not sources', () => {
    at(path.join(sources, 'notes.txt'), 3000);
    assert.deepEqual(readPrecompiled(file, sources, /\.cue$/), { value: 1 });
  });

  it('answers nothing without a file (a run from the sources) or with an unreadable one', () => {
    assert.equal(readPrecompiled(path.join(dir, 'none.json'), sources, /\.cue$/), undefined);
    writeFileSync(file, '{"value":');
    at(file, 2000);
    assert.equal(readPrecompiled(file, sources, /\.cue$/), undefined);
  });

  it('names the file beside a module', () => {
    const url = pathToFileURL(path.join(dir, 'dist', 'definitions', 'catalog.js')).href;
    assert.equal(precompiledFile(url, 'catalog.json'), path.join(dir, 'dist', 'definitions', 'catalog.json'));
  });
});
