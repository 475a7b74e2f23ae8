import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCatalog } from '../definitions/index.js';
import { CueEngine } from '../cue/index.js';
import { exampleDirs, exampleInputs, goldenOf } from './golden.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const examples = path.join(root, 'examples');

for (const name of ['native', 'wasm'] as const)
  describe(`examples/* render to their committed goldens on the ${name} CUE engine (npm run generate:goldens rewrites them)`, () => {
    let engine: CueEngine;
    before(async () => {
      engine = new CueEngine({ engine: name });
      assert.equal((await engine.engine()).name, name);
    });
    after(() => engine.stop());

    it('every built-in type has an example, and every example a golden', () => {
      const dirs = exampleDirs(examples).map((d) => path.basename(d));
      for (const def of readCatalog())
        assert.ok(dirs.includes(def.metadata.name!), `examples/${def.metadata.name}/ is missing`);
      for (const d of dirs)
        assert.ok(existsSync(path.join(examples, d, 'expected.golden')), `examples/${d}/expected.golden is missing`);
    });

    const types = readCatalog().map((d) => d.metadata.name!);
    for (const dir of exampleDirs(examples)) {
      const name = path.basename(dir);
      // `examples/<type>-<what>/` (e.g. function-hello) is a further example of <type>; a folder named
      // after no type (quickstart: the README's tour) combines several.
      const type = types.includes(name)
        ? name
        : types.filter((t) => name.startsWith(`${t}-`)).sort((a, b) => b.length - a.length)[0];
      it(`examples/${name}`, async () => {
        const golden = await goldenOf(exampleInputs(dir), engine);
        assert.equal(golden.rendered, readFileSync(path.join(dir, 'expected.golden'), 'utf8'));
        const children = path.join(dir, 'expected-children.golden');
        assert.equal(golden.children, existsSync(children) ? readFileSync(children, 'utf8') : undefined);
        // Each example uses the type it is named after: an object it rendered, or a patch it made.
        const escaped = type ? type.replace(/\./g, '\\.') : '[a-z.-]+';
        assert.match(
          golden.rendered,
          new RegExp(`trellis\\.dev/definition: (Workload|Trait)Definition/${escaped}\\n|-${escaped}(-\\d+)?=patch`),
        );
      });
    }
  });
