// The Gateway API's CRDs (HTTPRoute, Gateway, GatewayClass, ReferenceGrant), read from the module's
// config/crd/standard folder: the rollout trait shifts traffic through HTTPRoute backend weights.
// Nothing is built from this module; controlplane/versions.ts lists the files taken from it.
module trellis.dev/controlplane/gateway-api

go 1.26.0

require sigs.k8s.io/gateway-api v1.6.3
