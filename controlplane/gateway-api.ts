import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/types.js';
import { ensureBinaries, type BinaryOptions } from './binaries.js';
import { GATEWAY_API_CRDS, GATEWAY_API_TOOL } from './versions.js';

/**
 * The Gateway API CRDs (GatewayClass, Gateway, HTTPRoute, ReferenceGrant of the standard channel),
 * read from the `sigs.k8s.io/gateway-api` Go module at {@link GATEWAY_API_TOOL}'s version and cached
 * beside the binaries. `prebuiltDir` is a folder holding `gateway-api-crds.yaml` (no Go needed).
 *
 * @example
 *   for (const crd of await gatewayApiCrds({ cacheDir, env })) await kube.apply(crd)
 */
export async function gatewayApiCrds(options: BinaryOptions): Promise<KubeObject[]> {
  const files = await ensureBinaries(GATEWAY_API_TOOL, options);
  const text = await readFile(files[GATEWAY_API_CRDS]!, 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && o.kind === 'CustomResourceDefinition');
}
