/** A local Kubernetes control plane built from source: for tests and `trellis up`. */
export { ensureBinaries, requireGo, type Binaries, type BinaryOptions } from './binaries.js';
export { ControlPlane, type AuditEvent, type ControlPlaneOptions } from './control-plane.js';
export { auditTime } from './audit-time.js';
export {
  GATEWAY_API_TOOL,
  GATEWAY_API_VERSION,
  HELM_TOOL,
  HELM_VERSION,
  KUBE_TOOL,
  KWOK_TOOL,
  KWOK_CRDS_TOOL,
  KWOK_CRDS,
  KUBERNETES_VERSION,
  KWOK_VERSION,
  type GoTool,
} from './versions.js';
export { gatewayApiCrds } from './gateway-api.js';
export { ADMIN_USER } from './pki-files.js';
export { packageRoot, userCacheDir } from '../lib/paths.js';
