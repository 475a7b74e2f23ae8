package main

import (
	"bytes"
	"encoding/json"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
)

// memberwise are the fields read member by member, as KubeVela reads them
// (pkg/cue/definition/template.go): `outputs` through outputs.Fields(), `patchOutputs` by the name
// of each output. A struct whose comprehension iterates an absent optional field
// (`for v in parameter.pvc`, KubeVela's `storage` trait) carries an incomplete error of its own,
// which KubeVela never looks at: its members are exported one by one, each one that fails is an error.
var memberwise = map[string]bool{"outputs": true, "patchOutputs": true}

// exportMembers exports a struct field member by member, in the template's order; ok is false
// when the field is no struct (its kind reads bottom while the struct's own error stands, so
// whether it has fields is what tells).
func exportMembers(field cue.Value) (_ json.RawMessage, _ []issue, ok bool) {
	it, err := field.Fields()
	if err != nil {
		return nil, nil, false
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	var problems []issue
	for it.Next() {
		member := it.Value()
		if err := member.Validate(cue.Concrete(true), cue.Final()); err != nil {
			problems = append(problems, issuesOf(err)...)
			continue
		}
		b, err := member.MarshalJSON()
		if err != nil {
			problems = append(problems, issuesOf(err)...)
			continue
		}
		key, _ := json.Marshal(it.Selector().Unquoted())
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(b)
	}
	buf.WriteByte('}')
	if problems != nil {
		return nil, problems, true
	}
	return buf.Bytes(), nil, true
}

// patchTags is where a patch carries KubeVela's strategy comments (`// +patchKey=name`,
// `// +patchStrategy=retainKeys|replace|jsonMergePatch|jsonPatch`): the tags on this value's own
// field, and those below it by field name and list index. Only branches holding a tag are kept.
type patchTags struct {
	Tags   map[string]string     `json:"tags,omitempty"`
	Fields map[string]*patchTags `json:"fields,omitempty"`
	Items  []*patchTags          `json:"items,omitempty"`
}

// tagsOf walks a value for the tags in its fields' doc comments — CUE keeps every conjunct's doc, so
// a tag written in a definition (`PatchContainer: { // +patchStrategy=replace … }`) reaches the field
// it is unified into, as KubeVela's walk over `patch.Syntax(cue.Docs(true))` sees it.
func tagsOf(v cue.Value, docs []*ast.CommentGroup) *patchTags {
	node := &patchTags{Tags: commentTags(docs)}
	switch v.IncompleteKind() {
	case cue.StructKind:
		if it, err := v.Fields(); err == nil {
			for it.Next() {
				if child := tagsOf(it.Value(), it.Value().Doc()); child != nil {
					if node.Fields == nil {
						node.Fields = map[string]*patchTags{}
					}
					node.Fields[it.Selector().Unquoted()] = child
				}
			}
		}
	case cue.ListKind:
		if it, err := v.List(); err == nil {
			var items []*patchTags
			found := false
			for it.Next() {
				child := tagsOf(it.Value(), nil)
				found = found || child != nil
				items = append(items, child)
			}
			if found {
				node.Items = items
			}
		}
	}
	if node.Tags == nil && node.Fields == nil && node.Items == nil {
		return nil
	}
	return node
}

// commentTags reads `+key=value` lines of doc comments as KubeVela's findCommentTag does (a value
// with spaces in it is no tag).
func commentTags(docs []*ast.CommentGroup) map[string]string {
	var tags map[string]string
	for _, group := range docs {
		for _, c := range group.List {
			line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
			if !strings.HasPrefix(line, "+") {
				continue
			}
			kv := strings.SplitN(line[1:], "=", 2)
			if len(kv) != 2 || len(strings.Fields(kv[1])) > 1 {
				continue
			}
			if tags == nil {
				tags = map[string]string{}
			}
			tags[strings.TrimSpace(kv[0])] = strings.TrimSpace(kv[1])
		}
	}
	return tags
}
