package main

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue/errors"
)

// issuesOf turns CUE's errors into issues: path (quoted labels unquoted), message, positions.
func issuesOf(err error) []issue {
	var out []issue
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		path := []string{}
		for _, p := range e.Path() {
			if strings.HasPrefix(p, `"`) {
				if s, err := strconv.Unquote(p); err == nil {
					p = s
				}
			}
			path = append(path, p)
		}
		positions := []position{}
		for _, pos := range errors.Positions(e) {
			if !pos.IsValid() {
				continue
			}
			positions = append(positions, position{File: pos.Filename(), Line: pos.Line(), Column: pos.Column()})
		}
		// `2 errors in empty disjunction:` introduces the errors that follow: the colon is not the message's.
		msg := strings.TrimSuffix(fmt.Sprintf(format, args...), ":")
		out = append(out, issue{Path: path, Message: msg, Positions: positions})
	}
	if len(out) == 0 && err != nil {
		out = append(out, issue{Path: []string{}, Message: err.Error(), Positions: []position{}})
	}
	return out
}
