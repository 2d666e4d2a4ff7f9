package sal

import (
	"math/rand/v2"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"
)

// BenchmarkEncode compares the per-topic compiled encoder with goavro from
// native maps and hamba/avro with generic maps, on real ts_xml topics: a
// small one (ATDome position) and the largest hot one (MTM1M3
// forceActuatorData, 812 values).
func BenchmarkEncode(b *testing.B) {
	ifaces, err := LoadDir(sharedDir(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range [][2]string{{"ATDome", "position"}, {"MTM1M3", "forceActuatorData"}} {
		tp := ifaces.Topic(name[0], name[1])
		s := NewSample(tp)
		fill(s, rand.New(rand.NewPCG(1, 1)))
		native := s.Native()
		codec, err := goavro.NewCodec(tp.Schema())
		if err != nil {
			b.Fatal(err)
		}
		hs, err := avro.ParseWithCache(tp.Schema(), "", &avro.SchemaCache{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name[1]+"/compiled", func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tp.AppendAvro(buf[:0], s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name[1]+"/goavro-native", func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := codec.BinaryFromNative(buf[:0], native); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name[1]+"/hamba-generic", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := avro.Marshal(hs, native); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	ifaces, err := LoadDir(sharedDir(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range [][2]string{{"ATDome", "position"}, {"MTM1M3", "forceActuatorData"}} {
		tp := ifaces.Topic(name[0], name[1])
		s := NewSample(tp)
		fill(s, rand.New(rand.NewPCG(1, 1)))
		data, _ := tp.AppendAvro(nil, s)
		codec, _ := goavro.NewCodec(tp.Schema())
		b.Run(name[1]+"/compiled", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tp.DecodeAvro(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name[1]+"/goavro-native", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := codec.NativeFromBinary(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
