package mocksal

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/lsst-ts/teststand/sal"
)

// generator fills samples of one topic with random values that respect each
// field's type: finite floats, in-range integers, strings within IDL_Size
// and, where the field declares an enumeration, one of its values' indices.
type generator struct {
	topic   *sal.Topic
	rng     *rand.Rand
	revCode string
	user    []int // indices of non-private fields
}

func newGenerator(t *sal.Topic, seed uint64) *generator {
	g := &generator{
		topic: t,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		// Kafka-era salobj's private_revCode (ts_xml's get_revcode); a
		// real DDS transport writes its own in its place.
		revCode: t.RevCode(),
	}
	for i, f := range t.Fields {
		if !f.Private {
			g.user = append(g.user, i)
		}
	}
	return g
}

// fill sets every non-private field of s to a fresh random value; a
// nullable field is null one time in four, as a camera subsystem leaves out
// a reading it did not take.
func (g *generator) fill(s *sal.Sample) {
	for _, i := range g.user {
		f := &g.topic.Fields[i]
		if f.Nullable && g.rng.IntN(4) == 0 {
			s.Values[i] = nil
			continue
		}
		if f.Count > 1 && f.AvroType != "string" {
			s.Values[i] = g.array(f)
			continue
		}
		s.Values[i] = g.scalar(f)
	}
}

func (g *generator) array(f *sal.Field) any {
	switch f.AvroType {
	case "boolean":
		v := make([]bool, f.Count)
		for i := range v {
			v[i] = g.rng.IntN(2) == 1
		}
		return v
	case "int":
		v := make([]int32, f.Count)
		for i := range v {
			v[i] = g.int32(f)
		}
		return v
	case "long":
		v := make([]int64, f.Count)
		for i := range v {
			v[i] = g.int64(f)
		}
		return v
	case "float":
		v := make([]float32, f.Count)
		for i := range v {
			v[i] = float32(g.float())
		}
		return v
	default: // double
		v := make([]float64, f.Count)
		for i := range v {
			v[i] = g.float()
		}
		return v
	}
}

func (g *generator) scalar(f *sal.Field) any {
	switch f.AvroType {
	case "boolean":
		return g.rng.IntN(2) == 1
	case "int":
		return g.int32(f)
	case "long":
		return g.int64(f)
	case "float":
		return float32(g.float())
	case "double":
		return g.float()
	default:
		return g.str(f)
	}
}

// float returns a finite value with a realistic spread of magnitudes.
func (g *generator) float() float64 {
	return (g.rng.Float64()*2 - 1) * math.Pow(10, float64(g.rng.IntN(7)-3))
}

// int32 respects the IDL type's range (a byte fits in 0..255, a short in
// int16) and enumerations, whose values are small non-negative integers.
func (g *generator) int32(f *sal.Field) int32 {
	if n := enumCount(f.Enumeration); n > 0 {
		return int32(g.rng.IntN(n))
	}
	switch f.IDLType {
	case "byte", "octet", "char":
		return int32(g.rng.IntN(256))
	case "short":
		return int32(g.rng.IntN(1<<16) - 1<<15)
	case "unsigned short":
		return int32(g.rng.IntN(1 << 16))
	}
	return int32(g.rng.Uint32())
}

func (g *generator) int64(f *sal.Field) int64 {
	if n := enumCount(f.Enumeration); n > 0 {
		return int64(g.rng.IntN(n))
	}
	if f.IDLType == "unsigned int" || f.IDLType == "unsigned long" {
		return int64(g.rng.Uint32())
	}
	return int64(g.rng.Uint64())
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-"

// str returns a string no longer than IDL_Size (when given), at most 32
// characters otherwise.
func (g *generator) str(f *sal.Field) string {
	max := 32
	if f.IDLSize > 0 && f.IDLSize < max {
		max = f.IDLSize
	}
	n := g.rng.IntN(max + 1)
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(letters[g.rng.IntN(len(letters))])
	}
	return b.String()
}

// enumCount is the number of comma-separated names in an item's
// Enumeration text ("A, B=3" style values are counted too).
func enumCount(e string) int {
	if strings.TrimSpace(e) == "" {
		return 0
	}
	return strings.Count(e, ",") + 1
}
