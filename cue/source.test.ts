import assert from 'node:assert/strict';
import { contextFieldsRead, contextPathsRead, layoutOf, topLevelFields } from './source.js';

describe('cue: source reader', () => {
  it('finds the package clause, imports (single and grouped, aliased, with where their paths are) and top-level declarations', () => {
    const src =
      'package x\n\nimport "strings"\nimport (\n  l "list"\n  "encoding/json"\n)\n\nparameter: { a: int }\noutput: {\n  b: "}" // }\n}\n#Def: string\n_hidden: 1\nif parameter.a > 1 { outputs: x: {} }\n';
    const layout = layoutOf(src);
    assert.deepEqual(layout.imports, [
      { name: 'strings', path: 'strings', at: { line: 3, column: 8 } },
      { name: 'l', path: 'list', at: { line: 5, column: 5 } },
      { name: 'json', path: 'encoding/json', at: { line: 6, column: 3 } },
    ]);
    assert.equal(src.slice(layout.packageClause!.start, layout.packageClause!.end), 'package x');
    assert.deepEqual(
      layout.decls.map((d) => [d.kind, d.label]),
      [
        ['field', 'parameter'],
        ['field', 'output'],
        ['definition', '#Def'],
        ['hidden', '_hidden'],
        ['clause', undefined],
      ],
    );
    assert.deepEqual([...topLevelFields(layout)], ['parameter', 'output']);
  });

  it('tells a clause `if !x {…}` from required and optional fields `if!:` / `for?:`', () => {
    const layout = layoutOf('if !parameter.s { output: x: 1 }\nif! : int\nfor?: string\nname!: string\n');
    assert.deepEqual(
      layout.decls.map((d) => [d.kind, d.label]),
      [
        ['clause', undefined],
        ['field', 'if'],
        ['field', 'for'],
        ['field', 'name'],
      ],
    );
  });

  it('keeps a declaration that continues over lines after an operator together', () => {
    const layout = layoutOf('a: int &\n  >0\nb: "x\\(y)" | *"z"\n');
    assert.deepEqual(
      layout.decls.map((d) => d.label),
      ['a', 'b'],
    );
  });

  it('says which context fields a template reads, or "all" when it uses context otherwise', () => {
    assert.deepEqual(
      [...(contextFieldsRead('name: context.name\nx: "\\(context.appName)-a"') as Set<string>)],
      ['name', 'appName'],
    );
    assert.equal(contextFieldsRead('let c = context\nx: c.name'), 'all');
    assert.deepEqual([...(contextFieldsRead('mycontext: 1\ncontext_x: 2') as Set<string>)], []);
  });

  it('says which paths of each context field a template reads; a field used otherwise is read whole', () => {
    const read = (src: string) => {
      const paths = contextPathsRead(src);
      return paths === 'all' ? paths : Object.fromEntries(paths);
    };
    assert.deepEqual(
      read('if context.output.status.readyReplicas != _|_ {x: context.output.spec . replicas}\nn: context.name'),
      {
        output: [
          ['status', 'readyReplicas'],
          ['spec', 'replicas'],
        ],
        name: [[]],
      },
    );
    // Up to what is not a plain selector: an index, a quoted label, an alias.
    assert.deepEqual(read('a: context.output.status.conditions[0].type\nb: context.output.metadata."x-y"'), {
      output: [['status', 'conditions'], ['metadata']],
    });
    assert.deepEqual(read('let o = context.output\nx: o.status'), { output: [[]] });
    assert.deepEqual(read('x: context.outputs.service.spec\ny: context.outputsx'), {
      outputs: [['service', 'spec']],
      outputsx: [[]],
    });
    assert.equal(read('let c = context\nx: c.output.status'), 'all');
    assert.equal(read('context: output: status: x: 1'), 'all');
  });
});
