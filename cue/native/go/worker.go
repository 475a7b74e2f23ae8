package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/openapi"
)

// worker evaluates one request at a time with its own cue.Context (CUE values are not shared
// between goroutines). Compiled templates are kept by key; after cfg.recycle requests the context
// is dropped with everything compiled in it, which bounds what CUE's runtime accumulates.
type worker struct {
	store    *sourceStore
	cfg      config
	ctx      *cue.Context
	compiled *lru[compiled]
	served   int
}

// compiled is a template ready to be filled, or why it does not compile.
type compiled struct {
	value  cue.Value
	issues []issue
}

func newWorker(store *sourceStore, cfg config) *worker {
	w := &worker{store: store, cfg: cfg}
	w.reset()
	return w
}

func (w *worker) reset() {
	w.ctx = cuecontext.New()
	w.compiled = newLRU[compiled](w.cfg.templates)
	w.served = 0
}

// answer handles one request. A panic inside CUE answers that request as an engine failure and
// starts the worker over (the context may be left inconsistent).
func (w *worker) answer(req *request) (resp *response) {
	defer func() {
		if r := recover(); r != nil {
			w.reset()
			resp = engineFailure(req.ID, fmt.Sprintf("CUE panicked: %v", r))
		}
	}()
	if w.served++; w.served > w.cfg.recycle {
		w.reset()
	}
	switch req.Op {
	case "eval":
		return w.eval(req)
	case "vet":
		return w.vet(req)
	case "openapi":
		return w.openapi(req)
	}
	return engineFailure(req.ID, fmt.Sprintf("unknown op %q", req.Op))
}

// eval fills the template's parameter and context and exports the requested top-level fields.
func (w *worker) eval(req *request) *response {
	switch {
	case req.Key == "":
	case req.Key == w.cfg.exitOn:
		os.Exit(3)
	case req.Key == w.cfg.hangOn:
		select {}
	}
	c, ok := w.compiled.get(req.Key)
	if !ok {
		source, known := w.store.get(req.Key)
		if !known {
			return &response{ID: req.ID, Missing: true}
		}
		c = w.compile(source)
		w.compiled.put(req.Key, c)
	}
	if c.issues != nil {
		return failure(req.ID, "template", c.issues)
	}
	inputs, fields, err := inputsOf(req)
	if err != nil {
		return engineFailure(req.ID, err.Error())
	}
	// Parameter and context in one unification: each FillPath would evaluate the whole template again.
	v := c.value.Unify(w.ctx.BuildExpr(inputs))
	if err := v.Validate(); err != nil {
		return failure(req.ID, "instance", issuesOf(err))
	}
	value := map[string]json.RawMessage{}
	var problems []issue
	for _, name := range fields {
		// `+patch`: the strategy comments of `patch` (kubevela.go), not a value.
		tagsOnly := strings.HasPrefix(name, "+")
		field := v.LookupPath(cue.MakePath(cue.Str(strings.TrimPrefix(name, "+"))))
		if !field.Exists() {
			continue
		}
		if tagsOnly {
			b, _ := json.Marshal(tagsOf(field, field.Doc()))
			value[name] = b
			continue
		}
		if memberwise[name] {
			if b, issues, ok := exportMembers(field); ok {
				if issues != nil {
					problems = append(problems, issues...)
				} else {
					value[name] = b
				}
				continue
			}
		}
		if err := field.Validate(cue.Concrete(true), cue.Final()); err != nil {
			problems = append(problems, issuesOf(err)...)
			continue
		}
		b, err := field.MarshalJSON()
		if err != nil {
			problems = append(problems, issuesOf(err)...)
			continue
		}
		value[name] = b
	}
	if problems != nil {
		return failure(req.ID, "instance", problems)
	}
	return &response{ID: req.ID, OK: true, Value: value}
}

// inputsOf reads an evaluation's inputs, `inputs: [parameter, context, fields]` (or the three
// fields apart), as one struct `{parameter: …, context: …}` to unify with the template.
func inputsOf(req *request) (*ast.StructLit, []string, error) {
	parts := []json.RawMessage{req.Parameter, req.Context}
	fields := req.Fields
	var all *ast.ListLit
	if len(req.Inputs) > 0 {
		x, err := jsonExpr(req.Inputs)
		list, ok := x.(*ast.ListLit)
		if err != nil || !ok || len(list.Elts) != 3 {
			return nil, nil, fmt.Errorf("unreadable inputs: want [parameter, context, fields] (%v)", err)
		}
		all = list
		names, ok := list.Elts[2].(*ast.ListLit)
		if !ok {
			return nil, nil, fmt.Errorf("unreadable inputs: fields must be a list of names")
		}
		fields = nil
		for _, n := range names.Elts {
			lit, ok := n.(*ast.BasicLit)
			name, err := "", error(nil)
			if ok && lit.Kind == token.STRING {
				name, err = literal.Unquote(lit.Value)
			}
			if !ok || lit.Kind != token.STRING || err != nil {
				return nil, nil, fmt.Errorf("unreadable inputs: fields must be a list of names")
			}
			fields = append(fields, name)
		}
	}
	inputs := &ast.StructLit{}
	for i, name := range []string{"parameter", "context"} {
		var expr ast.Expr
		if all != nil {
			expr = all.Elts[i]
		} else if len(parts[i]) > 0 {
			var err error
			if expr, err = jsonExpr(parts[i]); err != nil {
				return nil, nil, fmt.Errorf("unreadable %s: %v", name, err)
			}
		} else {
			continue
		}
		inputs.Elts = append(inputs.Elts, &ast.Field{Label: ast.NewIdent(name), Value: expr})
	}
	return inputs, fields, nil
}

// compile parses and builds a template with `context: _` declared beside it (so a template may
// read context without declaring it), refusing imports outside the pure standard packages. CUE is
// monotonic: an error the template has without inputs, it has with any.
func (w *worker) compile(source string) compiled {
	f, err := parser.ParseFile("template", source)
	if err != nil {
		return compiled{issues: issuesOf(err)}
	}
	if refused := refusedImports(f); refused != nil {
		return compiled{issues: refused}
	}
	// Declared in the text, after the template's last line, so every CUE release resolves
	// references to it (and the template's own lines keep their numbers).
	f, err = parser.ParseFile("template", source+"\ncontext: _\n", parser.ParseComments) // doc comments carry KubeVela's patch strategies
	if err != nil {
		return compiled{issues: issuesOf(err)}
	}
	v := w.ctx.BuildFile(f)
	// Errors without inputs (bad references, conflicts) are the template's; incomplete values are
	// not errors here (v.Err() would report one for a top-level `if` over context not yet filled).
	if err := v.Validate(); err != nil {
		return compiled{issues: issuesOf(err)}
	}
	return compiled{value: v}
}

// instance builds the files of a vet or openapi request as one package, as `cue` would.
func (w *worker) instance(req *request) (cue.Value, []issue) {
	bi := build.NewContext().NewInstance("", nil)
	for _, fl := range req.Files {
		f, err := parser.ParseFile(fl.Path, fl.Text, parser.ParseComments) // doc comments become descriptions
		if err != nil {
			return cue.Value{}, issuesOf(err)
		}
		if refused := refusedImports(f); refused != nil {
			return cue.Value{}, refused
		}
		if err := bi.AddSyntax(f); err != nil {
			return cue.Value{}, issuesOf(err)
		}
	}
	v := w.ctx.BuildInstance(bi)
	if err := v.Err(); err != nil {
		return v, issuesOf(err)
	}
	return v, nil
}

// vet checks the files like `cue eval`: compile errors and conflicts, incomplete values allowed.
func (w *worker) vet(req *request) *response {
	v, issues := w.instance(req)
	if issues == nil {
		if err := v.Validate(); err != nil {
			issues = issuesOf(err)
		}
	}
	if issues != nil {
		return failure(req.ID, "template", issues)
	}
	return &response{ID: req.ID, OK: true}
}

// openapi generates the OpenAPI document of the files' definitions, like `cue def --out openapi`.
func (w *worker) openapi(req *request) *response {
	v, issues := w.instance(req)
	if issues != nil {
		return failure(req.ID, "template", issues)
	}
	doc, err := openapi.Gen(v, nil)
	if err != nil {
		return failure(req.ID, "template", issuesOf(err))
	}
	return &response{ID: req.ID, OK: true, Doc: doc}
}
