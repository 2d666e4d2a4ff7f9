package sal

import (
	"fmt"
	"slices"
)

// Sample is one SAL message. Values[i] holds Topic.Fields[i] as:
// boolean→bool, int→int32, long→int64, float→float32, double→float64,
// string→string; arrays as []bool, []int32, []int64, []float32 or
// []float64 of exactly Count items; a Nullable field's value is nil
// (null) or its type's.
type Sample struct {
	Topic  *Topic
	Values []any
}

// NewSample returns a sample with every field at its default (0, false,
// "", arrays of Count zeros, nil for a Nullable field).
func NewSample(t *Topic) *Sample {
	s := &Sample{Topic: t, Values: make([]any, len(t.Fields))}
	for i := range t.Fields {
		if !t.Fields[i].Nullable {
			s.Values[i] = zero(&t.Fields[i])
		}
	}
	return s
}

func zero(f *Field) any {
	if f.IsArray() {
		switch f.AvroType {
		case "boolean":
			return make([]bool, f.Count)
		case "int":
			return make([]int32, f.Count)
		case "long":
			return make([]int64, f.Count)
		case "float":
			return make([]float32, f.Count)
		default:
			return make([]float64, f.Count)
		}
	}
	switch f.AvroType {
	case "boolean":
		return false
	case "int":
		return int32(0)
	case "long":
		return int64(0)
	case "float":
		return float32(0)
	case "double":
		return float64(0)
	}
	return ""
}

// Get returns a field's value, or nil when there is no such field.
func (s *Sample) Get(name string) any {
	i := s.Topic.FieldIndex(name)
	if i < 0 {
		return nil
	}
	return s.Values[i]
}

// Set sets a field, checking the Go type and array length.
func (s *Sample) Set(name string, v any) error {
	i := s.Topic.FieldIndex(name)
	if i < 0 {
		return fmt.Errorf("%s.%s has no field %q", s.Topic.CSC, s.Topic.Name, name)
	}
	f := &s.Topic.Fields[i]
	if err := checkValue(f, v); err != nil {
		return fmt.Errorf("%s.%s: %w", s.Topic.CSC, s.Topic.Name, err)
	}
	s.Values[i] = v
	return nil
}

// checkValue reports whether v has the Go type and length f wants.
func checkValue(f *Field, v any) error {
	if v == nil && f.Nullable {
		return nil
	}
	want := zero(f)
	ok := false
	n := -1
	switch x := v.(type) {
	case []bool:
		_, ok = want.([]bool)
		n = len(x)
	case []int32:
		_, ok = want.([]int32)
		n = len(x)
	case []int64:
		_, ok = want.([]int64)
		n = len(x)
	case []float32:
		_, ok = want.([]float32)
		n = len(x)
	case []float64:
		_, ok = want.([]float64)
		n = len(x)
	default:
		ok = fmt.Sprintf("%T", v) == fmt.Sprintf("%T", want)
	}
	if !ok {
		return fmt.Errorf("field %s: got %T, want %T (Avro %s)", f.Name, v, want, f.AvroType)
	}
	if n >= 0 && n != f.Count {
		return fmt.Errorf("field %s: got %d items, want %d", f.Name, n, f.Count)
	}
	return nil
}

// Clone copies the sample, arrays included.
func (s *Sample) Clone() *Sample {
	c := &Sample{Topic: s.Topic, Values: make([]any, len(s.Values))}
	for i, v := range s.Values {
		switch x := v.(type) {
		case []bool:
			v = slices.Clone(x)
		case []int32:
			v = slices.Clone(x)
		case []int64:
			v = slices.Clone(x)
		case []float32:
			v = slices.Clone(x)
		case []float64:
			v = slices.Clone(x)
		}
		c.Values[i] = v
	}
	return c
}

// Native returns the sample in goavro's native form: a map of field name to
// value, with arrays as []any and a Nullable field's value as nil or
// {type: value}.
func (s *Sample) Native() map[string]any {
	m := make(map[string]any, len(s.Values))
	for i, f := range s.Topic.Fields {
		v := s.Values[i]
		switch {
		case f.IsArray():
			v = toAnySlice(v)
		case f.Nullable && v != nil:
			v = map[string]any{f.AvroType: v}
		}
		m[f.Name] = v
	}
	return m
}

func toAnySlice(v any) []any {
	switch x := v.(type) {
	case []bool:
		return anys(x)
	case []int32:
		return anys(x)
	case []int64:
		return anys(x)
	case []float32:
		return anys(x)
	case []float64:
		return anys(x)
	}
	return nil
}

func anys[T any](x []T) []any {
	out := make([]any, len(x))
	for i, v := range x {
		out[i] = v
	}
	return out
}
