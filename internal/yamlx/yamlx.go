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
