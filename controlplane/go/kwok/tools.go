//go:build tools

// Package tools pins kwok, the node and pod simulator, in a module of its own so its Kubernetes
// libraries never clash with the API server's.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
