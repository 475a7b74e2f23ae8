/**
 * Precomputes at build time what every start would otherwise compute from files that ship unchanged
 * (issue 14: an offline `trellis render` starts in ≤ 0.3 s), written next to the compiled modules in
 * dist/ that read them (lib/precompiled.ts):
 *   - dist/definitions/catalog.json   the built-in catalog (definitions/catalog/*.cue|yaml) parsed
 *   - dist/cue/native/evaluator-source.json   the hash of the native evaluator's Go module (cue/native/go),
 *     half of its build cache key (with the CUE version), so a start finds the built evaluator unhashed
 *
 * The sources stay the source: a module uses its file only when no source is newer, and falls back
 * to computing (as a run from tsx, with no dist/, always does).
 *
 * `tsx scripts/build-precompiled.ts` (part of `npm run build`) writes them; `--check` (part of
 * `npm run check:generated`) fails when dist/ holds one that differs from what the sources give now.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCatalog, PRECOMPILED_CATALOG } from '../definitions/index.js';
import { PRECOMPILED_SOURCE_HASH } from '../cue/native/binary.js';
import { moduleHash } from '../lib/go-build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

/** Each precompiled file (relative to dist/) and how to compute its content now. */
const ARTIFACTS: Record<string, () => Promise<unknown>> = {
  [path.join('definitions', PRECOMPILED_CATALOG)]: async () => parseCatalog(),
  [path.join('cue', 'native', PRECOMPILED_SOURCE_HASH)]: async () => ({
    sourceHash: await moduleHash(path.join(root, 'cue', 'native', 'go')),
  }),
};

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  if (check && !existsSync(dist)) {
    console.log('precompiled files: nothing built (no dist/), nothing to compare');
    return;
  }
  const stale: string[] = [];
  for (const [rel, compute] of Object.entries(ARTIFACTS)) {
    const file = path.join(dist, rel);
    const content = `${JSON.stringify(await compute())}\n`;
    if (!check) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    } else if ((await readFile(file, 'utf8').catch(() => undefined)) !== content) stale.push(path.join('dist', rel));
  }
  if (stale.length) {
    console.error(`precompiled files are stale — run \`npm run build\`:\n  ${stale.join('\n  ')}`);
    process.exitCode = 1;
  } else if (check) console.log(`precompiled files are up to date (${Object.keys(ARTIFACTS).length})`);
}

await main();
