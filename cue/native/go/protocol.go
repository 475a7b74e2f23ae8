package main

import "encoding/json"

// request is one line of standard input.
//
//	{"id":1,"op":"eval","key":"<sha256>","template":"<source, when not sent before>","inputs":[{parameter…},{context…},["output"]]}
//	(or "parameter", "context" and "fields" apart instead of "inputs")
//	{"id":2,"op":"vet","files":[{"path":"/batch/t0.cue","text":"…"}]}       (like `cue eval`)
//	{"id":3,"op":"openapi","files":[…]}                                       (like `cue def --out openapi`)
type request struct {
	ID        uint64          `json:"id"`
	Op        string          `json:"op"`
	Key       string          `json:"key,omitempty"`
	Template  string          `json:"template,omitempty"`
	Inputs    json.RawMessage `json:"inputs,omitempty"` // [parameter, context, fields]: what the caller hashed, sent as is
	Parameter json.RawMessage `json:"parameter,omitempty"`
	Context   json.RawMessage `json:"context,omitempty"`
	Fields    []string        `json:"fields,omitempty"`
	Files     []file          `json:"files,omitempty"`
}

type file struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// response is one line of standard output; the first one (id 0) is the hello.
//
//	{"id":1,"ok":true,"value":{"output":{…}}}
//	{"id":1,"ok":false,"scope":"instance","issues":[{"path":["parameter","replicas"],"message":"…","positions":[…]}]}
//	{"id":1,"missing":true}   the template of `key` is not known (any more): send it again with its source
type response struct {
	ID      uint64                     `json:"id"`
	OK      bool                       `json:"ok"`
	Value   map[string]json.RawMessage `json:"value,omitempty"`
	Doc     json.RawMessage            `json:"doc,omitempty"`
	Scope   string                     `json:"scope,omitempty"`
	Issues  []issue                    `json:"issues,omitempty"`
	Missing bool                       `json:"missing,omitempty"`
	Hello   *hello                     `json:"hello,omitempty"`
}

type hello struct {
	CUE     string `json:"cue"`
	Workers int    `json:"workers"`
}

type issue struct {
	Path      []string   `json:"path"`
	Message   string     `json:"message"`
	Positions []position `json:"positions"`
}

type position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func failure(id uint64, scope string, issues []issue) *response {
	return &response{ID: id, Scope: scope, Issues: issues}
}

func engineFailure(id uint64, message string) *response {
	return failure(id, "engine", []issue{{Path: []string{}, Message: message, Positions: []position{}}})
}
