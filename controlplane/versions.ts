/** The Kubernetes release the local control plane is built from. Change it together with go/kube/go.mod. */
export const KUBERNETES_VERSION = 'v1.36.3';
/** The kwok release that simulates nodes and pods. Change it together with go/kwok/go.mod. */
export const KWOK_VERSION = 'v0.8.0';
/** The Gateway API release whose CRDs (HTTPRoute, ...) the rollout trait needs. Change it together with go/gateway-api/go.mod. */
export const GATEWAY_API_VERSION = 'v1.6.3';
/** The Helm release used to render, lint and install the chart in tests. Change it together with go/helm/go.mod. */
export const HELM_VERSION = 'v3.22.0';

/** A Go module of ours and the commands built from it. */
export interface GoTool {
  /** Folder under controlplane/go. */
  module: string;
  version: string;
  /** Binary name → Go package to build. */
  commands: Record<string, string>;
  /** Extra `-ldflags` (e.g. version stamps). */
  ldflags?: string[];
  /**
   * Files copied from a dependency's module source into the cache next to the binaries:
   * output name → { module, files (relative paths, concatenated as YAML documents) }.
   */
  assets?: Record<string, { module: string; files: string[] }>;
}

const versionFlags = (pkg: string, version: string): string[] => {
  const [major, minor] = version.replace(/^v/, '').split('.');
  return [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ];
};

export const KUBE_TOOL: GoTool = {
  module: 'kube',
  version: KUBERNETES_VERSION,
  commands: {
    etcd: './etcd',
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
    'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  },
  ldflags: [
    ...versionFlags('k8s.io/component-base/version', KUBERNETES_VERSION),
    ...versionFlags('k8s.io/client-go/pkg/version', KUBERNETES_VERSION),
  ],
};

export const KWOK_TOOL: GoTool = {
  module: 'kwok',
  version: KWOK_VERSION,
  commands: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
  assets: {
    // kwok's own "fast" stages: nodes become Ready at once and keep a lease; pods become Ready at once.
    'kwok-stages.yaml': {
      module: 'sigs.k8s.io/kwok',
      files: [
        'kustomize/stage/node/fast/node-initialize.yaml',
        'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
        'kustomize/stage/pod/fast/pod-ready.yaml',
        'kustomize/stage/pod/fast/pod-complete.yaml',
        'kustomize/stage/pod/fast/pod-delete.yaml',
      ],
    },
  },
};

/** The kwok CRD file name in the cache (Logs and ClusterLogs: which file a simulated container's log is). */
export const KWOK_CRDS = 'kwok-crds.yaml';

/**
 * kwok's Logs and ClusterLogs CRDs, from the same module as {@link KWOK_TOOL} (nothing built): with them
 * installed and `--enable-crds`, kwok serves `pods/log` of a simulated pod from the file a Logs object names.
 */
export const KWOK_CRDS_TOOL: GoTool = {
  module: 'kwok-crds',
  version: KWOK_VERSION,
  commands: {},
  assets: {
    [KWOK_CRDS]: {
      module: 'sigs.k8s.io/kwok',
      files: ['logs', 'clusterlogs'].map((p) => `kustomize/crd/bases/kwok.x-k8s.io_${p}.yaml`),
    },
  },
};

export const HELM_TOOL: GoTool = {
  module: 'helm',
  version: HELM_VERSION,
  commands: { helm: 'helm.sh/helm/v3/cmd/helm' },
  ldflags: [`-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`],
};

/** The Gateway API CRD file name in the cache (the standard channel's kinds HTTP routing needs). */
export const GATEWAY_API_CRDS = 'gateway-api-crds.yaml';

export const GATEWAY_API_TOOL: GoTool = {
  module: 'gateway-api',
  version: GATEWAY_API_VERSION,
  commands: {},
  assets: {
    [GATEWAY_API_CRDS]: {
      module: 'sigs.k8s.io/gateway-api',
      files: ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'].map(
        (p) => `config/crd/standard/gateway.networking.k8s.io_${p}.yaml`,
      ),
    },
  },
};
