// Package yamlx decodes the project's YAML files strictly (an unknown key
// is an error) and words yaml.v3's errors as "file:line: message", the form
// every input error of the project takes. It holds no schema of its own.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

var (
	lineRe    = regexp.MustCompile(`line (\d+): (.*)`)
	unknownRe = regexp.MustCompile(`field (\S+) not found in type [\w.]+\.(\w+)`)
)

// Decode decodes data read from path into v, rejecting unknown keys.
// Section names Go type names in messages ("Site" → "a site").
func Decode(path string, data []byte, v any, section func(goType string) string) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return Error(path, err, section)
	}
	return nil
}

// Error rewrites a yaml.v3 error as "path:line: message".
func Error(path string, err error, section func(string) string) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			text := m[2]
			if u := unknownRe.FindStringSubmatch(text); u != nil {
				where := u[2]
				if section != nil {
					where = section(u[2])
				}
				text = fmt.Sprintf("unknown key %q in %s", u[1], where)
			}
			return fmt.Errorf("%s:%s: %s", path, m[1], text)
		}
		return fmt.Errorf("%s: %s", path, msg)
	}
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", path, m[1], m[2])
	}
	return fmt.Errorf("%s: %w", path, err)
}

var envRef = regexp.MustCompile(`\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// Expand substitutes ${VAR} and ${VAR:-default} in data with lookup's
// values before it is decoded, so one file serves several sites
// (${KAFKA_BOOTSTRAP}). Comments are left alone. A variable that is unset
// or empty and has no default is an error naming path and line; "$${"
// stands for "${".
func Expand(path string, data []byte, lookup func(string) (string, bool)) ([]byte, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var out bytes.Buffer
	for n, line := range lines {
		code, comment := splitComment(line)
		var lineErr error
		code = envRef.ReplaceAllFunc(code, func(m []byte) []byte {
			if string(m) == "$${" {
				return []byte("${")
			}
			sub := envRef.FindSubmatch(m)
			name := string(sub[1])
			if v, ok := lookup(name); ok && v != "" {
				return []byte(v)
			}
			if bytes.Contains(m, []byte(":-")) {
				return sub[2]
			}
			if lineErr == nil {
				lineErr = fmt.Errorf("%s:%d: ${%s} is not set (set it, or give a default: ${%s:-value})", path, n+1, name, name)
			}
			return m
		})
		if lineErr != nil {
			return nil, lineErr
		}
		out.Write(code)
		out.Write(comment)
	}
	return out.Bytes(), nil
}

// splitComment splits a YAML line before its comment: a "#" at the start
// or after a blank, outside quotes.
func splitComment(line []byte) (code, comment []byte) {
	var quote byte
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:]
		}
	}
	return line, nil
}
