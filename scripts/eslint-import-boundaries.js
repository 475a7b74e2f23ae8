// ESLint rule: imports point one way (DESIGN.md §2).
//   apis <- definitions <- cue <- render <- bind <- apply <- status <- controllers
// webhooks, gitops, serverless and cli sit beside controllers; kube/ (the only importer of
// @kubernetes/client-node) and lib/ import nothing of the project. `import type` from kube/ is allowed
// everywhere (types carry no network access) but in cue/, which knows CUE and nothing of Kubernetes.
import path from 'node:path';

const base = ['lib'];
const pipeline = ['apis', 'definitions', 'cue', 'render', 'bind', 'apply', 'status'];
const upTo = (layer) => pipeline.slice(0, pipeline.indexOf(layer));

/** Folder → folders it may import from (besides itself). */
export const ALLOWED = {
  lib: [],
  kube: [],
  apis: [...base],
  definitions: [...base, 'apis', 'kube'],
  // The engine runs CUE source it is given: it knows no API type or definition.
  cue: [...base],
  render: [...base, ...upTo('render')],
  bind: [...base, ...upTo('bind')],
  apply: [...base, ...upTo('apply'), 'kube'],
  status: [...base, ...upTo('status'), 'kube'],
  runtime: [...base, 'kube'],
  controllers: [...base, ...pipeline, 'runtime', 'kube'],
  webhooks: [...base, ...pipeline, 'runtime', 'kube'],
  gitops: [...base, ...pipeline, 'runtime', 'kube'],
  serverless: [...base, ...pipeline, 'runtime', 'kube'],
  controlplane: [...base, 'kube'],
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
        const typeOnly = node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
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
