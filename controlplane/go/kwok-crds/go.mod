// kwok's Logs and ClusterLogs CRDs, read from the module's kustomize/crd/bases folder: with them the test
// control plane's kwok serves pods/log of a simulated pod from a file. Nothing is built from this module;
// controlplane/versions.ts (KWOK_CRDS_TOOL) lists the files taken from it.
module trellis.dev/controlplane/kwok-crds

go 1.26.0

require sigs.k8s.io/kwok v0.8.0
