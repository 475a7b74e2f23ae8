package main

import (
	"fmt"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// jsonExpr turns JSON into the CUE expression it denotes, as cuelang.org/go/encoding/json.Extract
// does, at a fraction of its cost: Extract runs CUE's scanner and parser over the text, validates
// it again with encoding/json and walks the result to tidy positions for printing. Profiles of a
// cold render had it at a tenth of the evaluator's CPU (the context a trait reads holds its
// workload's whole object).
//
// The literals are JSON's own text: every JSON string is a CUE string literal with the same value
// (JSON has no escape CUE lacks, and no `\(`), every JSON number a CUE number (a minus sign becomes
// a unary minus, as CUE's parser reads it). Object keys become quoted labels, so `_x` or `#x` stay
// regular fields.
func jsonExpr(data []byte) (ast.Expr, error) {
	p := jsonParser{data: data}
	p.space()
	x, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(p.data) {
		return nil, p.fail("unexpected text after the value")
	}
	return x, nil
}

type jsonParser struct {
	data []byte
	i    int
}

// maxDepth bounds nesting (encoding/json allows 10,000 levels).
const maxDepth = 10000

func (p *jsonParser) fail(what string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, what)
}

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (ast.Expr, error) {
	if depth > maxDepth {
		return nil, p.fail("nested too deeply")
	}
	if p.i >= len(p.data) {
		return nil, p.fail("unexpected end")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &ast.BasicLit{Kind: token.STRING, Value: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case p.word("true"):
		return ast.NewBool(true), nil
	case p.word("false"):
		return ast.NewBool(false), nil
	case p.word("null"):
		return ast.NewNull(), nil
	}
	return nil, p.fail(fmt.Sprintf("unexpected %q", p.data[p.i]))
}

func (p *jsonParser) word(w string) bool {
	if len(p.data)-p.i >= len(w) && string(p.data[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return true
	}
	return false
}

func (p *jsonParser) object(depth int) (ast.Expr, error) {
	p.i++ // {
	s := &ast.StructLit{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return s, nil
	}
	for {
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.fail("expected a key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.fail("expected ':'")
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		s.Elts = append(s.Elts, &ast.Field{Label: &ast.BasicLit{Kind: token.STRING, Value: key}, Value: v})
		p.space()
		if p.i >= len(p.data) {
			return nil, p.fail("unexpected end in an object")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return s, nil
		default:
			return nil, p.fail("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) (ast.Expr, error) {
	p.i++ // [
	l := &ast.ListLit{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return l, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l.Elts = append(l.Elts, v)
		p.space()
		if p.i >= len(p.data) {
			return nil, p.fail("unexpected end in an array")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return l, nil
		default:
			return nil, p.fail("expected ',' or ']'")
		}
	}
}

// str returns a JSON string's literal text, quotes included, after checking its escapes.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // "
	for p.i < len(p.data) {
		switch c := p.data[p.i]; {
		case c == '"':
			p.i++
			return string(p.data[start:p.i]), nil
		case c == '\\':
			if p.i+1 >= len(p.data) {
				return "", p.fail("unexpected end in a string")
			}
			switch p.data[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.data) || !isHex(p.data[p.i+2:p.i+6]) {
					return "", p.fail("bad \\u escape")
				}
				p.i += 6
			default:
				return "", p.fail("bad escape")
			}
		case c < 0x20:
			return "", p.fail("control character in a string")
		default:
			p.i++
		}
	}
	return "", p.fail("unexpected end in a string")
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() (ast.Expr, error) {
	negative := p.data[p.i] == '-'
	if negative {
		p.i++
	}
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	n := digits()
	if n == 0 || (n > 1 && p.data[start] == '0') {
		return nil, p.fail("bad number")
	}
	kind := token.INT
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		kind = token.FLOAT
		if digits() == 0 {
			return nil, p.fail("bad number")
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		kind = token.FLOAT
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.fail("bad number")
		}
	}
	var x ast.Expr = &ast.BasicLit{Kind: kind, Value: string(p.data[start:p.i])}
	if negative {
		x = &ast.UnaryExpr{Op: token.SUB, X: x}
	}
	return x, nil
}
