// ESLint rule: imports point one way (DESIGN.md §2, docs/adr/0007-one-home-per-stage.md).
//   apis <- definitions <- cue <- render <- bind <- application   (the pipeline, pure; application/: the façade)
//   apply, status; runtime                                           (what the glue stands on)
//   webhooks, gitops, serverless, controlplane                       (glue, beside each other)
//   controllers                                                      (the OAM controllers; registers every family)
//   cli, test, bench, scripts, examples                              (entry points: anything)
// kube/ (the only importer of @kubernetes/client-node) and lib/ import nothing of the project. `import type`
// from kube/ is allowed everywhere (types carry no network access) but in cue/.
//
// The table allows no more than the code uses (test/lint/import-boundaries.test.ts checks both ways): when a
// folder starts to need another, add that one entry; when it stops, remove it. Every entry points down LAYERS.
import path from 'node:path';

/** Folders from the bottom up: a folder may import only from folders in lower layers (and only those ALLOWED). */
export const LAYERS = [
  ['lib', 'kube'],
  ['apis'],
  ['definitions'],
  ['cue'],
  ['render'],
  ['bind'],
  ['application'],
  ['apply'],
  ['status'],
  ['runtime'],
  ['webhooks', 'gitops', 'serverless', 'controlplane', 'dashboard'],
  // controllers/index.ts is the one list of controller families (OAM, GitOps, serverless).
  ['controllers'],
  ['cli', 'test', 'bench', 'scripts', 'examples'],
];

/**
 * Folder → folders it may import from, besides itself and `import type` from kube/ (not in NO_KUBE_TYPES);
 * '*': anything.
 */
export const ALLOWED = {
  lib: [],
  kube: [],
  apis: ['lib'],
  definitions: ['lib', 'apis', 'kube'],
  // The engine runs CUE source it is given: it knows no API type or definition.
  cue: ['lib'],
  render: ['lib', 'apis', 'definitions', 'cue'],
  bind: ['lib', 'apis', 'definitions', 'render'],
  application: ['lib', 'apis', 'definitions', 'cue', 'render', 'bind'],
  apply: ['lib', 'apis', 'kube'],
  status: ['lib', 'apis', 'definitions', 'cue', 'render'],
  runtime: ['lib', 'kube'],
  controllers: [
    'lib',
    'apis',
    'definitions',
    'cue',
    'render',
    'application',
    'apply',
    'status',
    'runtime',
    'kube',
    'gitops',
    'serverless',
  ],
  webhooks: ['lib', 'apis', 'definitions', 'cue', 'render', 'bind', 'application', 'kube'],
  gitops: ['lib', 'apis', 'apply', 'status', 'runtime', 'kube'],
  serverless: ['lib', 'apis', 'apply', 'status', 'runtime', 'kube'],
  controlplane: ['lib', 'kube'],
  // Views over the API: kinds and labels from apis/, revisions and the rollback from apply/, the rest through kube/.
  dashboard: ['lib', 'apis', 'apply', 'kube'],
  cli: '*',
  test: '*',
  bench: '*',
  scripts: '*',
  examples: '*',
};

const CLIENT_NODE = '@kubernetes/client-node';
const CLIENT_NODE_ALLOWED = new Set(['kube', 'test']);
const NO_KUBE_TYPES = new Set(['cue']);

function topFolder(root, file) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..')) return undefined;
  return rel.split(path.sep)[0];
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the one-way imports between top-level folders (DESIGN.md §2)' },
    schema: [],
    messages: {
      layer: '{{from}}/ may not import from {{to}}/ (allowed: {{allowed}}); see DESIGN.md §2',
      client: 'only kube/ imports @kubernetes/client-node; use the KubeClient from kube/ instead',
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = topFolder(root, file);
    if (!from || !(from in ALLOWED)) return {};
    const allowed = ALLOWED[from];

    function check(node, source, typeOnly) {
      if (typeof source !== 'string') return;
      if (source === CLIENT_NODE || source.startsWith(`${CLIENT_NODE}/`)) {
        if (!CLIENT_NODE_ALLOWED.has(from)) context.report({ node, messageId: 'client' });
        return;
      }
      if (!source.startsWith('.')) return;
      const to = topFolder(root, path.resolve(path.dirname(file), source));
      if (!to || to === from || allowed === '*' || !(to in ALLOWED)) return;
      if (allowed.includes(to)) return;
      if (typeOnly && to === 'kube' && !NO_KUBE_TYPES.has(from)) return;
      context.report({ node, messageId: 'layer', data: { from, to, allowed: allowed.join(', ') || 'nothing' } });
    }

    return {
      ImportDeclaration(node) {
        const typeOnly =
          node.importKind === 'type' ||
          (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
        check(node, node.source.value, typeOnly);
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, node.source.value, node.exportKind === 'type');
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, node.exportKind === 'type');
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, node.source.value, false);
      },
    };
  },
};
