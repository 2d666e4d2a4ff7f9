package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	lineRe      = regexp.MustCompile(`line (\d+): (.*)`)
	unknownRe   = regexp.MustCompile(`^field (\S+) not found in type [\w.]+\.(\w+)$`)
	unmarshalRe = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
)

// Decode decodes data read from path into v, rejecting unknown keys.
// Section names Go type names in messages ("Site" → "a site").
func Decode(path string, data []byte, v any, section func(goType string) string) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		var doc yaml.Node
		_ = yaml.Unmarshal(data, &doc) // the tree the key paths are read from
		return ErrorAt(err, &doc, v, section, FilePos(path))
	}
	return nil
}

// Error rewrites a yaml.v3 error as "path:line: message".
func Error(path string, err error, section func(string) string) error {
	return ErrorAt(err, nil, nil, section, FilePos(path))
}

// FilePos formats positions in the file at path: "path:line:column", or
// "path:line" where the column is not known, or "path" where neither is.
func FilePos(path string) func(line, column int) string {
	return func(line, column int) string {
		switch {
		case line == 0:
			return path
		case column == 0:
			return fmt.Sprintf("%s:%d", path, line)
		}
		return fmt.Sprintf("%s:%d:%d", path, line, column)
	}
}

// ErrorAt rewrites an error of decoding root into target (either nil: not
// known) as "pos: message", pos from at; where root shows which node the
// error is about, the message names its key path and pos has its column.
// A syntax error yaml.v3 gives no line is on the first line (it leaves
// out line 0).
func ErrorAt(err error, root *yaml.Node, target any, section func(string) string, at func(line, column int) string) error {
	var ne *NodeError
	if errors.As(err, &ne) {
		n, path := find(root, func(n *yaml.Node) bool { return n.Line == ne.Line && n.Column == ne.Column })
		if n == nil {
			return fmt.Errorf("%s: %s", at(ne.Line, ne.Column), ne.Msg)
		}
		return fmt.Errorf("%s: %s: %s", at(ne.Line, ne.Column), path.label(), ne.Msg)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		m := lineRe.FindStringSubmatch(msg)
		if m == nil {
			return fmt.Errorf("%s: %s", at(0, 0), msg)
		}
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		if u := unknownRe.FindStringSubmatch(text); u != nil {
			where := u[2]
			if section != nil {
				where = section(u[2])
			}
			text = fmt.Sprintf("unknown key %q in %s", u[1], where)
			if k, path := findKey(root, line, u[1]); k != nil {
				if len(path) == 0 { // a key at the top: the section says where
					return fmt.Errorf("%s: %s", at(k.Line, k.Column), text)
				}
				return fmt.Errorf("%s: %s: %s", at(k.Line, k.Column), path, text)
			}
			return fmt.Errorf("%s: %s", at(line, 0), text)
		}
		if u := unmarshalRe.FindStringSubmatch(text); u != nil {
			tag, value, goType := u[1], u[2], u[3]
			n, path := findTyped(root, target, func(n *yaml.Node, t reflect.Type) bool {
				if n.Line != line || n.Kind == yaml.DocumentNode || n.ShortTag() != tag || (t != nil && t.String() != goType) {
					return false
				}
				if v, cut := strings.CutSuffix(value, "..."); cut {
					return strings.HasPrefix(n.Value, v)
				}
				return n.Kind != yaml.ScalarNode || n.Value == value
			})
			if n != nil {
				return fmt.Errorf("%s: %s: want %s, got %s", at(n.Line, n.Column), path.label(), want(goType), Got(n))
			}
		}
		return fmt.Errorf("%s: %s", at(line, 0), text)
	}
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return fmt.Errorf("%s: %s", at(line, 0), m[2])
	}
	if msg, ok := strings.CutPrefix(err.Error(), "yaml: "); ok {
		return fmt.Errorf("%s: %s", at(1, 0), msg)
	}
	return fmt.Errorf("%s: %w", at(0, 0), err)
}

// NodeError is an error about one node of a document, for unmarshalers
// to return: Decode reports it at the node's position and key path.
type NodeError struct {
	Line, Column int
	Msg          string
}

func (e *NodeError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// NodeErrorf is a NodeError about n.
func NodeErrorf(n *yaml.Node, format string, args ...any) error {
	return &NodeError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// Got words what n is, for "want ..., got ..." messages: a scalar as
// written (a string quoted), or "a list", "a mapping".
func Got(n *yaml.Node) string {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// want words a Go type as what a value must be.
func want(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return "a mapping" // a struct
}

// Path is a place in a YAML document: mapping keys (strings) and
// sequence indices (ints) from its top node.
type Path []any

// String is the path as written in messages: sites.summit.kafka.brokers,
// traffic[0].scale, topic_configs["retention.ms"].
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", e)
		default:
			k := fmt.Sprint(e)
			switch {
			case k == "" || strings.ContainsAny(k, ".[]\" \t"):
				fmt.Fprintf(&b, "[%q]", k)
			case b.Len() > 0:
				b.WriteString("." + k)
			default:
				b.WriteString(k)
			}
		}
	}
	return b.String()
}

// With is p followed by more, a new path (p is left as it is).
func (p Path) With(more ...any) Path { return append(p[:len(p):len(p)], more...) }

func (p Path) label() string {
	if len(p) == 0 {
		return "the document"
	}
	return p.String()
}

// top is the top node of a document, or n itself.
func top(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// Lookup follows p from n (a document or its top node) and returns the
// node at p with found true or, where p leaves the document, the deepest
// node on the way with found false.
func Lookup(n *yaml.Node, p Path) (node *yaml.Node, found bool) {
	n = top(n)
	if n == nil {
		return nil, false
	}
	for _, e := range p {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch e := e.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && e >= 0 && e < len(n.Content) {
				next = n.Content[e]
			}
		default:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == fmt.Sprint(e) {
						next = n.Content[i+1]
					}
				}
			}
		}
		if next == nil {
			return n, false
		}
		n = next
	}
	return n, true
}

// find returns the first node under root, in document order, that ok
// takes, with its path.
func find(root *yaml.Node, ok func(*yaml.Node) bool) (*yaml.Node, Path) {
	return findTyped(root, nil, func(n *yaml.Node, _ reflect.Type) bool { return ok(n) })
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// findTyped is find with the Go type each node decodes into, as yaml.v3
// names it in errors (pointers followed), from target's (nil where not
// known: no target, an interface, an Unmarshaler's insides).
func findTyped(root *yaml.Node, target any, ok func(*yaml.Node, reflect.Type) bool) (*yaml.Node, Path) {
	var walk func(n *yaml.Node, t reflect.Type, p Path) (*yaml.Node, Path)
	walk = func(n *yaml.Node, t reflect.Type, p Path) (*yaml.Node, Path) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if ok(n, t) {
			return n, p
		}
		if t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
			t = nil // decoded by its own code
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if f, fp := walk(n.Content[i+1], memberType(t, key), p.With(key)); f != nil {
					return f, fp
				}
			}
		case yaml.SequenceNode:
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i, c := range n.Content {
				if f, fp := walk(c, elem, p.With(i)); f != nil {
					return f, fp
				}
			}
		}
		return nil, nil
	}
	n := top(root)
	if n == nil {
		return nil, nil
	}
	var t reflect.Type
	if target != nil {
		t = reflect.TypeOf(target)
	}
	return walk(n, t, Path{})
}

// memberType is the type of key's value in a mapping decoded into t: a
// map's element, or the struct field yaml.v3 decodes key into.
func memberType(t reflect.Type, key string) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if strings.Contains(opts, "inline") {
				if ft := memberType(f.Type, key); ft != nil {
					return ft
				}
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if name == key {
				return f.Type
			}
		}
	}
	return nil
}

// findKey returns the key node named key at line and the path of the
// mapping it is in.
func findKey(root *yaml.Node, line int, key string) (*yaml.Node, Path) {
	var k *yaml.Node
	_, p := find(root, func(n *yaml.Node) bool {
		if n.Kind != yaml.MappingNode {
			return false
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if c := n.Content[i]; c.Line == line && c.Value == key {
				k = c
				return true
			}
		}
		return false
	})
	return k, p
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
