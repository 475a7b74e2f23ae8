import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RuleTester } from 'eslint';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import rule, { ALLOWED, LAYERS } from '../../scripts/eslint-import-boundaries.js';
import { packageRoot } from '../../controlplane/index.js';

const root = packageRoot();
const parser = tseslint.parser as never;
const tester = new RuleTester({ languageOptions: { parser, ecmaVersion: 2022, sourceType: 'module' } });
const at = (file: string) => path.join(root, file);
const ok = (file: string, code: string) => ({ code, filename: at(file) });
const bad = (file: string, code: string, messageId: 'layer' | 'client' = 'layer') => ({
  code,
  filename: at(file),
  errors: [{ messageId }],
});
const bounded = Object.entries(ALLOWED).filter((e): e is [string, string[]] => e[1] !== '*');
const layerOf = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));

/** Where the linted code imports from: folder → folders (values, and types other than kube/'s). */
function importsOfTheCode(): Map<string, Set<string>> {
  const skip = new Set(['node_modules', 'dist', 'testdata', path.join('apis', 'generated')]); // as eslint.config.js ignores
  const used = new Map<string, Set<string>>();
  const walk = (dir: string, from: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skip.has(e.name) && !skip.has(path.relative(root, file))) walk(file, from);
      } else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        for (const { source, typeOnly } of importsOf(file)) {
          if (!source.startsWith('.')) continue;
          const to = path.relative(root, path.resolve(path.dirname(file), source)).split(path.sep)[0]!;
          if (to === from || to.startsWith('..') || (typeOnly && to === 'kube')) continue;
          used.set(from, (used.get(from) ?? new Set()).add(to));
        }
      }
    }
  };
  for (const [from] of bounded) walk(at(from), from);
  return used;
}

function importsOf(file: string): { source: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const found: { source: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const named = bindings && ts.isNamedImports(bindings) ? bindings.elements : undefined;
      const allTypes = !clause?.name && !!named?.length && named.every((n) => n.isTypeOnly);
      found.push({ source: node.moduleSpecifier.text, typeOnly: !!clause && (clause.isTypeOnly || allTypes) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ source: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) found.push({ source: arg.text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('lint rule: import boundaries (DESIGN.md §2, docs/adr/0007-one-home-per-stage.md)', () => {
  tester.run('import-boundaries', rule, {
    valid: [
      ok('render/render.ts', "import { x } from '../apis/generated/core.oam.dev-v1alpha2.js';"),
      ok('render/render.ts', "import type { KubeObject } from '../kube/types.js';"),
      ok('application/render-application.ts', "import { bindApplication } from '../bind/bind.js';"),
      ok('controllers/appconfig/reconcile.ts', "import { renderApplication } from '../application/index.js';"),
      ok('apply/apply.ts', "import { KubeClient } from '../kube/client.js';"),
      ok('kube/connection.ts', "import * as k8s from '@kubernetes/client-node';"),
      ok('cli/main.ts', "import { anything } from '../controllers/x.js';"),
      ok('render/render.ts', "import { CueEngine } from '../cue/index.js';"),
      ok('cue/engine.ts', "import { TrellisError } from '../lib/errors.js';"),
    ],
    invalid: [
      bad('render/render.ts', "import { KubeClient } from '../kube/client.js';"),
      bad('bind/bind.ts', "import { apply } from '../apply/apply.js';"),
      // The façade sits above the stages: a stage reaching up to it is the round trip docs/adr/0007 removed.
      bad('bind/bind.ts', "import { renderApplication } from '../application/index.js';"),
      bad('render/render.ts', "import { renderObjects } from '../application/offline.js';"),
      bad('bind/index.ts', "export { renderApplication } from '../application/index.js';"),
      bad('bind/bind.ts', "const m = await import('../application/index.js');"),
      bad('webhooks/server.ts', "import { reconcile } from '../controllers/appconfig/reconcile.js';"),
      bad('apis/index.ts', "import { x } from '../definitions/x.js';"),
      bad('apply/applier.ts', "import type { RenderedObject } from '../render/types.js';"),
      // cue/ runs the source it is given: no rendering, no definitions, no API types, no cluster.
      bad('cue/engine.ts', "import { renderComponents } from '../render/render.js';"),
      bad('cue/engine.ts', "import { x } from '../definitions/x.js';"),
      bad('cue/engine.ts', "import { x } from '../apis/generated/core.oam.dev-v1alpha2.js';"),
      bad('cue/engine.ts', "import type { KubeObject } from '../kube/types.js';"),
      bad('definitions/load.ts', "import { CueEngine } from '../cue/index.js';"),
      bad('controllers/x.ts', "import * as k8s from '@kubernetes/client-node';", 'client'),
      bad('kube/client.ts', "import { TrellisError } from '../lib/errors.js';"),
    ],
  });

  // Every import the table does not list fails: in particular every new upward one.
  const folders = Object.keys(ALLOWED);
  tester.run('import-boundaries: every import the table does not list', rule, {
    valid: [],
    invalid: bounded.flatMap(([from, allowed]) =>
      folders
        .filter((to) => to !== from && !allowed.includes(to))
        .map((to) => ({ name: `${from}/ -> ${to}/`, ...bad(`${from}/x.ts`, `import { x } from '../${to}/x.js';`) })),
    ),
  });

  it('the table points one way: every folder sits in one layer and imports only from lower ones', () => {
    for (const folder of folders) {
      assert.equal(LAYERS.filter((l) => l.includes(folder)).length, 1, `${folder}/ is in exactly one layer`);
    }
    for (const [from, allowed] of bounded) {
      for (const to of allowed) {
        assert.ok(layerOf(to) < layerOf(from), `${from}/ may import ${to}/, which is not below it in LAYERS`);
      }
    }
  });

  it('every top-level folder holding TypeScript is in the table (the rule skips folders it does not know)', () => {
    const withCode = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !['node_modules', 'dist'].includes(d.name) && !d.name.startsWith('.'))
      .filter((d) => readdirSync(at(d.name), { recursive: true }).some((f) => String(f).endsWith('.ts')))
      .map((d) => d.name);
    for (const folder of withCode) {
      assert.ok(folder in ALLOWED, `${folder}/ is missing from ALLOWED in scripts/eslint-import-boundaries.js`);
    }
  });

  it('the table allows no more than the code uses', () => {
    const used = importsOfTheCode();
    for (const [from, allowed] of bounded) {
      const unused = allowed.filter((to) => !used.get(from)?.has(to));
      const why = `${from}/ is allowed to import ${unused.join(', ')}/ but no file in it does: remove the entry`;
      assert.deepEqual(unused, [], why);
    }
  });
});
