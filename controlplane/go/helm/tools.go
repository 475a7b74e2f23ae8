//go:build tools

// Package tools pins Helm, used to render, lint and verify the chart, in a module of its own so its
// Kubernetes libraries never clash with the API server's.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
