package main

import (
	"strconv"

	"cuelang.org/go/cue/ast"
)

// pureStandard are CUE's standard packages that compute and nothing else. The tool/* packages
// (file, exec, http, os, cli) and every package outside the standard library are refused: a
// template must not reach files, the environment, the network or commands. Keep in step with
// cue/sandbox.ts (the same list, checked before either engine runs a template).
var pureStandard = map[string]bool{
	"crypto/ed25519": true, "crypto/hmac": true, "crypto/md5": true, "crypto/sha1": true,
	"crypto/sha256": true, "crypto/sha512": true, "encoding/base64": true, "encoding/csv": true,
	"encoding/hex": true, "encoding/json": true, "encoding/toml": true, "encoding/yaml": true,
	"html": true, "list": true, "math": true, "math/bits": true, "net": true, "path": true,
	"regexp": true, "strconv": true, "strings": true, "struct": true, "text/tabwriter": true,
	"text/template": true, "time": true, "uuid": true,
}

// refusedImports names each import of f that is not a pure standard package, with its position.
func refusedImports(f *ast.File) []issue {
	var refused []issue
	f.VisitImports(func(d *ast.ImportDecl) {
		for _, spec := range d.Specs {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				path = spec.Path.Value
			}
			if pureStandard[path] {
				continue
			}
			pos := spec.Path.Pos()
			refused = append(refused, issue{
				Path:      []string{},
				Message:   refusedMessage(path),
				Positions: []position{{File: pos.Filename(), Line: pos.Line(), Column: pos.Column()}},
			})
		}
	})
	return refused
}

// refusedMessage is the same sentence as cue/sandbox.ts' for the same import.
func refusedMessage(path string) string {
	return "import " + strconv.Quote(path) + " is not allowed: templates may import only CUE's pure standard packages " +
		"(no tool/* package, no other module), so they cannot read files or environment variables, reach the network or run commands"
}
