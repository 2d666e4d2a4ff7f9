package sal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// op is how one field is encoded; a topic's ops are computed once.
type op uint8

const (
	opBool op = iota
	opInt
	opLong
	opFloat
	opDouble
	opString
)

type fieldCodec struct {
	op       op
	array    bool
	count    int
	nullable bool // ["null", op]: a union index first, 0 for null
}

func (t *Topic) codecs() []fieldCodec {
	t.encBuild.Do(func() {
		t.enc = make([]fieldCodec, len(t.Fields))
		for i, f := range t.Fields {
			var o op
			switch f.AvroType {
			case "boolean":
				o = opBool
			case "int":
				o = opInt
			case "long":
				o = opLong
			case "float":
				o = opFloat
			case "double":
				o = opDouble
			case "string":
				o = opString
			default:
				t.encErr = fmt.Errorf("field %s: no encoder for Avro type %q", f.Name, f.AvroType)
			}
			t.enc[i] = fieldCodec{op: o, array: f.IsArray(), count: f.Count, nullable: f.Nullable}
		}
	})
	return t.enc
}

// AppendAvro appends the Avro binary encoding of s (no framing) to dst.
func (t *Topic) AppendAvro(dst []byte, s *Sample) ([]byte, error) {
	ops := t.codecs()
	if t.encErr != nil {
		return dst, t.encErr
	}
	if len(s.Values) != len(ops) {
		return dst, fmt.Errorf("%s.%s: sample has %d values, topic has %d fields", t.CSC, t.Name, len(s.Values), len(ops))
	}
	for i, c := range ops {
		v := s.Values[i]
		var ok bool
		switch {
		case c.nullable && v == nil:
			dst, ok = append(dst, 0), true
		case c.nullable:
			dst = append(dst, 2) // zigzag varint 1: the second branch
			dst, ok = appendScalar(dst, c.op, v)
		case c.array:
			dst, ok = appendArray(dst, c, v)
		default:
			dst, ok = appendScalar(dst, c.op, v)
		}
		if !ok {
			return dst, fmt.Errorf("%s.%s: %w", t.CSC, t.Name, checkValue(&t.Fields[i], v))
		}
	}
	return dst, nil
}

func appendScalar(dst []byte, o op, v any) ([]byte, bool) {
	switch o {
	case opBool:
		b, ok := v.(bool)
		if b {
			return append(dst, 1), ok
		}
		return append(dst, 0), ok
	case opInt:
		x, ok := v.(int32)
		return binary.AppendVarint(dst, int64(x)), ok
	case opLong:
		x, ok := v.(int64)
		return binary.AppendVarint(dst, x), ok
	case opFloat:
		x, ok := v.(float32)
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(x)), ok
	case opDouble:
		x, ok := v.(float64)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), ok
	default:
		x, ok := v.(string)
		dst = binary.AppendVarint(dst, int64(len(x)))
		return append(dst, x...), ok
	}
}

func appendArray(dst []byte, c fieldCodec, v any) ([]byte, bool) {
	n := 0
	switch x := v.(type) {
	case []bool:
		n = len(x)
	case []int32:
		n = len(x)
	case []int64:
		n = len(x)
	case []float32:
		n = len(x)
	case []float64:
		n = len(x)
	}
	if n != c.count {
		return dst, false
	}
	dst = binary.AppendVarint(dst, int64(n))
	switch c.op {
	case opBool:
		x, ok := v.([]bool)
		if !ok {
			return dst, false
		}
		for _, b := range x {
			if b {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	case opInt:
		x, ok := v.([]int32)
		if !ok {
			return dst, false
		}
		for _, e := range x {
			dst = binary.AppendVarint(dst, int64(e))
		}
	case opLong:
		x, ok := v.([]int64)
		if !ok {
			return dst, false
		}
		for _, e := range x {
			dst = binary.AppendVarint(dst, e)
		}
	case opFloat:
		x, ok := v.([]float32)
		if !ok {
			return dst, false
		}
		for _, e := range x {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(e))
		}
	case opDouble:
		x, ok := v.([]float64)
		if !ok {
			return dst, false
		}
		for _, e := range x {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e))
		}
	default:
		return dst, false
	}
	return append(dst, 0), true
}

var errShort = errors.New("truncated Avro data")

type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) scalar(o op) any {
	switch o {
	case opBool:
		b := r.take(1)
		return len(b) == 1 && b[0] != 0
	case opInt:
		return int32(r.varint())
	case opLong:
		return r.varint()
	case opFloat:
		b := r.take(4)
		if b == nil {
			return float32(0)
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case opDouble:
		b := r.take(8)
		if b == nil {
			return float64(0)
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	default:
		return string(r.take(int(r.varint())))
	}
}

// array reads Avro array blocks straight into a typed slice; SAL arrays
// have a fixed length, and a different length is an error.
func (r *reader) array(c fieldCodec) any {
	switch c.op {
	case opBool:
		return readArray(r, c.count, func(r *reader) bool { return r.scalar(opBool).(bool) })
	case opInt:
		return readArray(r, c.count, func(r *reader) int32 { return int32(r.varint()) })
	case opLong:
		return readArray(r, c.count, (*reader).varint)
	case opFloat:
		return readArray(r, c.count, func(r *reader) float32 {
			b := r.take(4)
			if b == nil {
				return 0
			}
			return math.Float32frombits(binary.LittleEndian.Uint32(b))
		})
	default:
		return readArray(r, c.count, func(r *reader) float64 {
			b := r.take(8)
			if b == nil {
				return 0
			}
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		})
	}
}

func readArray[T any](r *reader, count int, item func(*reader) T) []T {
	out := make([]T, 0, count)
	for r.err == nil {
		n := r.varint()
		if n == 0 {
			break
		}
		if n < 0 { // a block with its byte size
			n = -n
			r.varint()
		}
		if n > int64(count-len(out)) {
			r.err = fmt.Errorf("array longer than its %d items", count)
			break
		}
		for range n {
			out = append(out, item(r))
		}
	}
	if r.err == nil && len(out) != count {
		r.err = fmt.Errorf("array of %d items, want %d", len(out), count)
	}
	return out
}

// DecodeAvro decodes the Avro binary encoding of a sample of t.
func (t *Topic) DecodeAvro(b []byte) (*Sample, error) {
	ops := t.codecs()
	if t.encErr != nil {
		return nil, t.encErr
	}
	r := &reader{b: b}
	s := &Sample{Topic: t, Values: make([]any, len(ops))}
	for i, c := range ops {
		switch {
		case c.nullable:
			switch r.varint() {
			case 0:
				s.Values[i] = nil
			case 1:
				s.Values[i] = r.scalar(c.op)
			default:
				if r.err == nil {
					r.err = errors.New("union branch out of [null, value]")
				}
			}
		case c.array:
			s.Values[i] = r.array(c)
		default:
			s.Values[i] = r.scalar(c.op)
		}
		if r.err != nil {
			return nil, fmt.Errorf("%s.%s: field %s: %w", t.CSC, t.Name, t.Fields[i].Name, r.err)
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%s.%s: %d bytes left after the last field", t.CSC, t.Name, len(r.b))
	}
	return s, nil
}
