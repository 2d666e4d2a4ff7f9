package producer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/pyenv"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// pythonDecoder is a Python with confluent-kafka (with its Avro support,
// fastavro) from PyPI.
func pythonDecoder(t *testing.T) string {
	t.Helper()
	return pyenv.Python(t, []string{"confluent_kafka.schema_registry.avro", "fastavro"}, "confluent-kafka[avro,schemaregistry]==2.12.2", "fastavro")
}

// TestIndependentDecoderReadsOurRecords: records written by our producer
// through our registry are read by confluent-kafka + fastavro, and decode
// to the same values as with our decoder.
func TestIndependentDecoderReadsOurRecords(t *testing.T) {
	py := pythonDecoder(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ifaces, _ := sal.Load(sample.FS, sal.Avro(sample.Avro))
	bus := dds.NewBus()
	defer bus.Close()
	p, err := producer.New(ctx, producer.Config{Brokers: c.ListenAddrs(), RegistryURL: reg.URL(), Bus: bus, Interfaces: ifaces,
		Components: []string{"ATDome", "MTM1M3", "Test:1"}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(rctx) }()
	defer func() { stop(); wg.Wait() }()

	for _, tc := range []struct {
		csc, topic string
		index      int32
	}{{"ATDome", "position", 0}, {"MTM1M3", "forceActuatorData", 0}, {"Test", "scalars", 1}, {"Test", "arrays", 1}} {
		t.Run(tc.csc+"."+tc.topic, func(t *testing.T) {
			tp := ifaces.Topic(tc.csc, tc.topic)
			const n = 5
			// Our own view of what was written: the samples as the bus
			// carried them, before the producer stamped them.
			probe, _ := bus.Subscribe(dds.ReaderConfig{Topic: tp, Depth: n})
			if _, err := mocksal.Run(ctx, bus, mocksal.WriterConfig{Topic: tp, Index: tc.index, Count: n, Seed: 3}, nil); err != nil {
				t.Fatal(err)
			}
			var written []*sal.Sample
			for range n {
				s, _, err := probe.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				written = append(written, s)
			}
			probe.Close()
			cmd := exec.CommandContext(ctx, py, "-W", "ignore", "testdata/decode.py", c.ListenAddrs()[0], reg.URL(), tp.KafkaTopic(""), strconv.Itoa(n))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("independent decoder: %v\n%s%s", err, out, stderr.String())
			}
			var got []map[string]any
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var line struct {
					Value map[string]any
					Error string
				}
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Error != "" {
					t.Fatalf("decoder output %q: %v", sc.Text(), err)
				}
				got = append(got, line.Value)
			}
			if len(got) != n {
				t.Fatalf("decoded %d records, want %d:\n%s", len(got), n, out)
			}
			for i, w := range written {
				want := map[string]any{}
				js, _ := json.Marshal(w.Native())
				json.Unmarshal(js, &want)
				for _, stamp := range []string{"private_rcvStamp", "private_efdStamp", "private_kafkaStamp"} {
					delete(want, stamp)
					delete(got[i], stamp)
				}
				if d := cmp.Diff(want, got[i], cmpopts.EquateApprox(1e-6, 0)); d != "" {
					t.Fatalf("record %d: fastavro's decoding differs from what was written (-written +decoded):\n%s", i, d)
				}
			}
		})
	}
}
