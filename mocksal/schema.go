package mocksal

import (
	"encoding/json"
	"fmt"

	"github.com/linkedin/goavro/v2"

	"github.com/lsst-ts/teststand/sal"
)

// carried is a schema a recording carries, bound on its first use to the
// loaded interfaces' topic of the same CSC and name.
type carried struct {
	line, number     int
	csc, topic, avsc string

	bound bool
	err   error
	t     *sal.Topic
	// same means the carried fields are the topic's, in its order and
	// of its types: the binary layout is the same, so the topic's own
	// decoder reads the samples (and checks array lengths).
	same  bool
	codec *goavro.Codec
}

// avscRecord is what a SAL topic's schema holds that matters here.
type avscRecord struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Fields    []struct {
		Name string          `json:"name"`
		Type json.RawMessage `json:"type"`
	} `json:"fields"`
}

// fieldType reads a field's Avro type as a SAL field has it: a primitive,
// or an array of one.
func fieldType(raw json.RawMessage) (avroType string, array bool, ok bool) {
	var prim string
	if json.Unmarshal(raw, &prim) == nil {
		return prim, false, isPrimitive(prim)
	}
	var obj struct {
		Type  string          `json:"type"`
		Items json.RawMessage `json:"items"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return "", false, false
	}
	if obj.Type == "array" {
		var items string
		if json.Unmarshal(obj.Items, &items) != nil || !isPrimitive(items) {
			return "", false, false
		}
		return items, true, true
	}
	return obj.Type, false, isPrimitive(obj.Type)
}

func isPrimitive(t string) bool {
	switch t {
	case "boolean", "int", "long", "float", "double", "string":
		return true
	}
	return false
}

func describeType(avroType string, array bool) string {
	if array {
		return "array of " + avroType
	}
	return avroType
}

// bind finds the schema's topic in ifaces and checks that their fields
// are the same (names and types, in any order); it runs once.
func (c *carried) bind(ifaces *sal.Interfaces) error {
	if !c.bound {
		c.bound = true
		if c.err = c.check(ifaces); c.err != nil {
			c.err = fmt.Errorf("schema %d (line %d): %w", c.number, c.line, c.err)
		}
	}
	return c.err
}

func (c *carried) check(ifaces *sal.Interfaces) error {
	if c.t = ifaces.Topic(c.csc, c.topic); c.t == nil {
		return fmt.Errorf("not in the loaded interfaces")
	}
	var rec avscRecord
	if err := json.Unmarshal([]byte(c.avsc), &rec); err != nil {
		return fmt.Errorf("the schema is not Avro JSON: %w", err)
	}
	if rec.Type != "record" {
		return fmt.Errorf("the schema is of type %q, not a record", rec.Type)
	}
	if full, want := rec.Namespace+"."+rec.Name, c.t.FullName(); full != want {
		return fmt.Errorf("the schema is %s, not %s", full, want)
	}
	mismatch := func(format string, a ...any) error {
		return fmt.Errorf("the recording's fields differ from the loaded interfaces': "+format, a...)
	}
	c.same = len(rec.Fields) == len(c.t.Fields)
	seen := map[string]bool{}
	for i, f := range rec.Fields {
		typ, array, ok := fieldType(f.Type)
		if !ok {
			return mismatch("field %q has Avro type %s, which no SAL field has", f.Name, string(f.Type))
		}
		j := c.t.FieldIndex(f.Name)
		if j < 0 {
			return mismatch("field %q (%s) is not in the loaded interfaces", f.Name, describeType(typ, array))
		}
		lf := &c.t.Fields[j]
		if lf.AvroType != typ || lf.IsArray() != array {
			return mismatch("field %q is %s in the recording, %s in the loaded interfaces", f.Name, describeType(typ, array), describeType(lf.AvroType, lf.IsArray()))
		}
		seen[f.Name] = true
		c.same = c.same && i == j
	}
	for _, lf := range c.t.Fields {
		if !seen[lf.Name] {
			return mismatch("field %q of the loaded interfaces is not in the recording", lf.Name)
		}
	}
	if !c.same {
		codec, err := goavro.NewCodec(c.avsc)
		if err != nil {
			return fmt.Errorf("the schema does not parse: %w", err)
		}
		c.codec = codec
	}
	return nil
}

// decode reads a sample with the carried schema onto the bound topic.
func (c *carried) decode(data []byte) (*sal.Sample, error) {
	if c.same {
		return c.t.DecodeAvro(data)
	}
	native, rest, err := c.codec.NativeFromBinary(data)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", c.csc, c.topic, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%s.%s: %d bytes left after the last field", c.csc, c.topic, len(rest))
	}
	rec, _ := native.(map[string]any)
	s := &sal.Sample{Topic: c.t, Values: make([]any, len(c.t.Fields))}
	for i := range c.t.Fields {
		f := &c.t.Fields[i]
		v, err := salValue(f, rec[f.Name])
		if err != nil {
			return nil, fmt.Errorf("%s.%s: field %s: %w", c.csc, c.topic, f.Name, err)
		}
		s.Values[i] = v
	}
	return s, nil
}

// salValue turns a decoded Avro value into the Go type sal gives field f
// (see sal.Sample).
func salValue(f *sal.Field, v any) (any, error) {
	if !f.IsArray() {
		return scalarValue(f.AvroType, v)
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%T, want an array", v)
	}
	if len(items) != f.Count {
		return nil, fmt.Errorf("%d items, the loaded interfaces say %d", len(items), f.Count)
	}
	var conv func(int, any) error
	var out any
	switch f.AvroType {
	case "boolean":
		a := make([]bool, f.Count)
		out, conv = a, func(i int, x any) (err error) { a[i], err = typed[bool](x); return }
	case "int":
		a := make([]int32, f.Count)
		out, conv = a, func(i int, x any) (err error) { a[i], err = typed[int32](x); return }
	case "long":
		a := make([]int64, f.Count)
		out, conv = a, func(i int, x any) (err error) { a[i], err = typed[int64](x); return }
	case "float":
		a := make([]float32, f.Count)
		out, conv = a, func(i int, x any) (err error) { a[i], err = typed[float32](x); return }
	case "double":
		a := make([]float64, f.Count)
		out, conv = a, func(i int, x any) (err error) { a[i], err = typed[float64](x); return }
	default:
		return nil, fmt.Errorf("no SAL array of %s", f.AvroType)
	}
	for i, x := range items {
		if err := conv(i, x); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return out, nil
}

func scalarValue(avroType string, v any) (any, error) {
	switch avroType {
	case "boolean":
		return typed[bool](v)
	case "int":
		return typed[int32](v)
	case "long":
		return typed[int64](v)
	case "float":
		return typed[float32](v)
	case "double":
		return typed[float64](v)
	}
	return typed[string](v)
}

func typed[T any](v any) (T, error) {
	x, ok := v.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%T, want %T", v, zero)
	}
	return x, nil
}
