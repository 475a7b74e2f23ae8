/** Turning CUE's complaints into messages about the user's object and field. */
import { TrellisError } from '../lib/errors.js';
import { CueError, describeIssues, explainParameterIssue, type CueIssue } from '../cue/index.js';
import { getFieldPath } from '../lib/fieldpath.js';

/** What is being rendered, for messages. */
export interface RenderSubject {
  /** `trait "scaler" of component "web"`, `component "web"`. */
  what: string;
  /** The object the user wrote: `ApplicationConfiguration/shop/app`. */
  object: string;
  /** Where in it: `spec.components[0].traits[1]`. */
  field: string;
  /** The definition, as `TraitDefinition/scaler`. */
  definition?: string;
  /** The properties the user gave, to quote their value in messages. */
  properties?: unknown;
}

/** A TrellisError about the subject, from a CUE failure (other errors are wrapped as they are). */
export function renderError(err: unknown, subject: RenderSubject): TrellisError {
  const prefix = `cannot render ${subject.what}`;
  if (!(err instanceof CueError)) {
    if (err instanceof TrellisError) return err;
    return new TrellisError('TRL_RENDER_FAILED', `${prefix}: ${(err as Error)?.message ?? String(err)}`, {
      object: subject.object,
      field: subject.field,
      cause: err,
    });
  }
  if (err.scope === 'template') {
    return new TrellisError(
      'TRL_DEFINITION_TEMPLATE',
      `${prefix}: the CUE template of ${subject.definition ?? 'its definition'} does not compile: ${describeIssues(err.issues)}`,
      {
        object: subject.definition ?? subject.object,
        field: subject.definition ? 'spec.schematic.cue.template' : subject.field,
        cause: err,
      },
    );
  }
  if (err.scope === 'engine') {
    return new TrellisError('TRL_CUE_ENGINE', `${prefix}: ${describeIssues(err.issues)}`, {
      object: subject.object,
      field: subject.field,
      cause: err,
    });
  }
  const parameterIssues = err.issues.filter((i) => i.path[0] === 'parameter');
  if (parameterIssues.length) {
    return new TrellisError(
      'TRL_RENDER_PARAMETER',
      `${prefix}: ${explainParameters(parameterIssues, subject.properties)}`,
      { object: subject.object, field: subject.field, cause: err },
    );
  }
  return new TrellisError('TRL_RENDER_TEMPLATE', `${prefix}: ${describeIssues(err.issues)}`, {
    object: subject.object,
    field: subject.field,
    cause: err,
  });
}

/** `parameter "replicas": expected int, got "three"`, one clause per parameter path. */
export function explainParameters(issues: CueIssue[], properties: unknown): string {
  const byPath = new Map<string, CueIssue[]>();
  for (const issue of issues) {
    // CUE v0.4: `parameter: field b not allowed`; v0.14: `parameter.b: field not allowed`.
    const notAllowed = /^field (\S+) not allowed$/.exec(issue.message);
    const path = notAllowed ? [...issue.path.slice(1), notAllowed[1]] : issue.path.slice(1);
    const key = JSON.stringify([path, !!notAllowed || issue.message === 'field not allowed']);
    byPath.set(key, [...(byPath.get(key) ?? []), { ...issue, path }]);
  }
  return [...byPath.entries()]
    .map(([key, group]) => {
      const [path, unknown] = JSON.parse(key) as [string[], boolean];
      const name = path.join('.') || '(all)';
      if (unknown) return `unknown parameter "${name}"`;
      const given = path.length ? getFieldPath(properties, path) : properties;
      if (group.some((i) => /^incomplete value/.test(i.message)) && given === undefined)
        return `parameter "${name}" is required`;
      const best =
        group.find(
          (i) =>
            /mismatched types/.test(i.message) &&
            /and (int|float|number|string|bool|struct|list|bytes|null) \(/.test(i.message),
        ) ??
        group.find((i) => !/errors in empty disjunction/.test(i.message)) ??
        group[0];
      return `parameter "${name}": ${explainParameterIssue(best.message, given)}`;
    })
    .join('; ');
}
