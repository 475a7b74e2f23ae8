/**
 * The dashboard's rendered-object page (issue 15): one child object of an ApplicationConfiguration as
 * it renders, each leaf field with what set it — the same rendering and provenance as
 * `trellis render --provenance` and `trellis diff` (application/provenance.ts), from the cluster's
 * Components, revisions and definitions. Built here, where the CUE engine and definitions are, and
 * handed to the dashboard as an option (dashboard/ may not import cue/ or application/).
 *
 * Only for CLI mode, where `kube` is the user: every read is theirs, so their RBAC decides. In the chart
 * (`--authenticate`) no provider is given and the endpoint answers 501.
 */
import { fieldProvenance, leaves, originOf, renderApplication } from '../application/index.js';
import { CueEngine, type CueEngineOptions } from '../cue/index.js';
import type { ObjectProvenance, ProvenanceRequest } from '../dashboard/objects.js';
import type { KubeClient } from '../kube/index.js';
import { diffComponents, diffDefinitions } from './diff-sources.js';

export interface DashboardProvenance {
  /** The dashboard's `provenance` option. */
  provenance: (request: ProvenanceRequest) => Promise<ObjectProvenance | undefined>;
  /** Stops the CUE engine (started on the first request). */
  stop(): Promise<void>;
}

/**
 * @example
 *   const prov = dashboardProvenance(kube, cueEngineOptions(undefined, io))
 *   new Dashboard({ kube, logger, provenance: prov.provenance })
 *   // ... at the end
 *   await prov.stop()
 */
export function dashboardProvenance(kube: KubeClient, cue: CueEngineOptions = {}): DashboardProvenance {
  let engine: CueEngine | undefined;
  return {
    async provenance({ app, kind, name, apiVersion }) {
      engine ??= new CueEngine(cue);
      const namespace = app.metadata.namespace!;
      const input = {
        appConfig: app as never,
        namespace,
        components: diffComponents(kube, [], namespace),
        definitions: diffDefinitions(kube, []),
        engine,
      };
      const rendered = await renderApplication(input);
      const at = rendered.objects.findIndex(
        (o) =>
          o.object.kind === kind &&
          o.object.metadata.name === name &&
          (!apiVersion || o.object.apiVersion === apiVersion),
      );
      if (at < 0) return undefined;
      const object = rendered.objects[at]!.object;
      const sources = (await fieldProvenance(input, rendered))[at]!;
      return {
        object,
        fields: leaves(object).map((leaf) => ({
          path: leaf.path,
          value: leaf.value,
          origin: originOf(sources, leaf.path),
        })),
      };
    },
    async stop() {
      await engine?.stop();
    },
  };
}
