// Package ddstest gives the real-DDS tests (the binding's own, the
// producer's against an independent peer) the samples they exchange and
// the comparison of what arrived.
package ddstest

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/sal"
)

// ranges are each integer IDL type's bounds: a wrong width or sign in a
// layout shows at the edges.
var ranges = map[string][2]int64{
	"byte": {0, 255}, "octet": {0, 255}, "char": {0, 127},
	"short": {math.MinInt16, math.MaxInt16}, "unsigned short": {0, math.MaxUint16},
	"int": {math.MinInt32, math.MaxInt32}, "long": {math.MinInt32, math.MaxInt32},
	"unsigned int": {0, math.MaxUint32}, "unsigned long": {0, math.MaxUint32},
	"long long": {math.MinInt64, math.MaxInt64}, "unsigned long long": {0, math.MaxInt64},
}

// EdgeSample is sample i of a topic with every value at the edge of its
// IDL type's range (alternating low and high), floats far from zero,
// bounded strings at their full bound and unbounded ones not ASCII only;
// salIndex is index, the private fields a writer's (revCode, when the
// topic has it, is left to the writer).
func EdgeSample(t *sal.Topic, index int32, i int) *sal.Sample {
	s := sal.NewSample(t)
	for n := range t.Fields {
		f := &t.Fields[n]
		val := func(j int) any {
			k := i + j
			switch f.AvroType {
			case "boolean":
				return k%2 == 1
			case "float":
				return float32(k)*0.25 - 3e38
			case "double":
				return float64(k)*0.1 - 1e300
			case "string":
				if f.IDLSize > 1 {
					return strings.Repeat(string(rune('a'+k%26)), f.IDLSize)
				}
				return fmt.Sprintf("unbounded %d ✓", k)
			}
			rg := ranges[strings.TrimSpace(f.IDLType)]
			v := rg[0] + int64(k)
			if k%2 == 1 {
				v = rg[1] - int64(k)
			}
			if f.AvroType == "int" {
				return int32(v)
			}
			return v
		}
		switch {
		case f.Name == "salIndex":
			s.Values[n] = index
		case f.Name == "private_sndStamp":
			s.Values[n] = 1.8e9 + float64(i)
		case f.Name == "private_seqNum":
			s.Values[n] = int32(i + 1)
		case f.Name == "private_origin":
			s.Values[n] = int32(31337)
		case f.Name == "private_identity":
			s.Values[n] = "Test:1"
		case f.Private:
		case f.IsArray():
			arr := reflect.ValueOf(s.Values[n])
			for j := 0; j < arr.Len(); j++ {
				arr.Index(j).Set(reflect.ValueOf(val(j)))
			}
		default:
			s.Values[n] = val(0)
		}
	}
	return s
}

// Diff compares the fields a DDS-era sample carries ("" when equal): not
// private_rcvStamp (the reader's), nor the Kafka-era private_efdStamp and
// private_kafkaStamp, nor private_revCode unless withRev.
func Diff(want, got *sal.Sample, withRev bool) string {
	var b strings.Builder
	for i, f := range want.Topic.Fields {
		switch f.Name {
		case "private_rcvStamp", "private_efdStamp", "private_kafkaStamp":
			continue
		case "private_revCode":
			if !withRev {
				continue
			}
		}
		if !reflect.DeepEqual(want.Values[i], got.Values[i]) {
			fmt.Fprintf(&b, "%s: wrote %#v, got %#v; ", f.Name, want.Values[i], got.Values[i])
		}
	}
	return b.String()
}

// BasePort is a free base port for a test's DDS domains (each domain's
// port claimed machine-wide, see proc.FreePorts).
func BasePort(t testing.TB, domains ...int) int {
	t.Helper()
	var offsets []int
	for _, d := range domains {
		offsets = append(offsets, dds.Port(0, d))
	}
	base, err := proc.FreePorts(offsets...)
	if err != nil {
		t.Fatal(err)
	}
	return base
}
