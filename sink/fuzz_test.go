package sink

import (
	"time"

	"encoding/binary"
	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// FuzzDecodeValue feeds Kafka record values to the sink's decoder: the
// Confluent frame, then the Avro body under one of the sample interfaces'
// schemas, then the point the default rule makes. An error or a point,
// never a panic.
func FuzzDecodeValue(f *testing.F) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		f.Fatal(err)
	}
	var topics []*sal.Topic
	for _, n := range [][2]string{{"ATDome", "position"}, {"Test", "arrays"}, {"Test", "logevent_scalars"}, {"ATCamera", "logevent_endReadout"}} {
		if t := ifaces.Topic(n[0], n[1]); t != nil {
			topics = append(topics, t)
		}
	}
	var schemas []*schema
	for i, t := range topics {
		sc, err := compileSchema(t.Schema())
		if err != nil {
			f.Fatal(err)
		}
		schemas = append(schemas, sc)
		body, err := t.AppendAvro(binary.BigEndian.AppendUint32([]byte{0}, uint32(i)), sal.NewSample(t))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 2})
	rules := DefaultRules()
	if err := rules[0].compile(0); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		fuzzx.Within(5*time.Second, func() {
			id, body, err := frameID(value)
			if err != nil {
				return
			}
			p, _, err := decodeBody(schemas[id%len(schemas)], &rules[0], body)
			if err == nil && p == nil {
				t.Fatal("no point and no error")
			}
		})
	})
}

// FuzzRules feeds sink rule files (YAML) to the rule compiler.
func FuzzRules(f *testing.F) {
	f.Add([]byte("rules:\n- topics: ['lsst\\.sal\\..*']\n  database: efd\n"))
	f.Add([]byte("rules:\n- topics: ['summit\\.lsst\\.sal\\..*']\n  database: efd\n  registry: http://127.0.0.1:8081\n  tags: [salIndex]\n"))
	f.Add([]byte("rules:\n- topics: ['(']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzx.Within(5*time.Second, func() {
			rules, err := ParseRules("rules.yaml", data)
			if err == nil && rules == nil {
				t.Fatal("no rules and no error")
			}
		})
	})
}
