package kafkaproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sink"
)

// fill gives every field of a sample a value derived from i and the
// field's place, of the field's type, negative and fractional ones too.
func fill(s *sal.Sample, i int) {
	for j := range s.Topic.Fields {
		f := &s.Topic.Fields[j]
		v := float64(i)*1.25 - float64(j)*0.5
		switch x := s.Values[j].(type) {
		case []float32:
			for k := range x {
				x[k] = float32(v + float64(k)/8)
			}
		case []float64:
			for k := range x {
				x[k] = v + float64(k)/3
			}
		case []int32:
			for k := range x {
				x[k] = int32(i*7 - k)
			}
		case []int64:
			for k := range x {
				x[k] = int64(i)*1_000_003 - int64(k)
			}
		case []bool:
			for k := range x {
				x[k] = (i+k)%2 == 0
			}
		case float32:
			s.Values[j] = float32(v)
		case float64:
			s.Values[j] = v
		case int32:
			s.Values[j] = int32(i*3 - j)
		case int64:
			s.Values[j] = int64(i)*1_000_000_007 - int64(j)
		case bool:
			s.Values[j] = i%2 == 0
		case string:
			s.Values[j] = fmt.Sprintf("%s %d \"q\"", f.Name, i)
		}
	}
}

// TestSamePointsAsTelegraf feeds the same SAL records, in real Apache
// Kafka, to Telegraf (kafka_consumer with the avro parser, configured as
// the EFD's) and to our sink, each into a database of its own in one real
// influxd, and compares every point: measurement, time, field set and
// values.
func TestSamePointsAsTelegraf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bed := newSinkBed(t, ctx)
	kc, influx, reg, bin := bed.kafka, bed.influx, bed.reg, bed.telegraf
	topics := []*sal.Topic{
		bed.ifaces.Topic("ATDome", "position"), bed.ifaces.Topic("MTM1M3", "forceActuatorData"),
		bed.ifaces.Topic("Test", "arrays"), bed.ifaces.Topic("Test", "scalars"), bed.ifaces.Topic("Test", "logevent_scalars"),
	}
	const n = 20
	for _, tp := range topics {
		bed.produce(t, ctx, tp, n, func(i int) float64 { return 1_790_000_000.0 + float64(i)*0.0123456 })
	}
	ic := &influxd.Client{URL: influx.URL()}
	for _, db := range []string{"cmp_telegraf", "cmp_ours"} {
		if err := ic.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", db)); err != nil {
			t.Fatal(err)
		}
	}
	conf := telegraf.Config{
		Brokers: kc.Seeds(), RegistryURL: reg.URL(), InfluxURL: influx.URL(), Group: "telegraf",
		Inputs: []telegraf.Input{{Topics: []string{`lsst\.sal\..*`}, Database: "cmp_telegraf"}},
	}.Text()
	confPath := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := proc.Start("telegraf", exec.Command(bin, "--config", confPath))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Kill()

	s, err := sink.New(sink.Config{
		Brokers: kc.Seeds(), RegistryURL: reg.URL(), InfluxURL: influx.URL(), Logger: quiet(),
		Rules: []sink.Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "cmp_ours"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	defer func() { stop(); <-done }()
	want := n * len(topics)
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if total(t, influx, "cmp_telegraf", topics) >= want && total(t, influx, "cmp_ours", topics) >= want {
			break
		}
	}
	if got := total(t, influx, "cmp_telegraf", topics); got != want {
		t.Fatalf("telegraf wrote %d points, want %d\n%s", got, want, tg.Tail(4000))
	}
	if got := total(t, influx, "cmp_ours", topics); got != want {
		t.Fatalf("our sink wrote %d points, want %d", got, want)
	}
	cmp, err := ic.CompareDatabases(ctx, "cmp_telegraf", "cmp_ours", "telegraf", "ours")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal() || cmp.Measurements != len(topics) || cmp.Points != want {
		t.Fatalf("%d measurements, %d points compared (want %d, %d):\n%s", cmp.Measurements, cmp.Points, len(topics), want, strings.Join(cmp.Diffs, "\n"))
	}
	t.Logf("%d measurements, %d points, %d values each side, equal", cmp.Measurements, cmp.Points, cmp.Values)
}

func total(t *testing.T, influx *influxd.Server, db string, topics []*sal.Topic) int {
	n := 0
	for _, tp := range topics {
		n += len(points(t, influx, db, tp.FullName()))
	}
	return n
}

// points reads a measurement's points.
func points(t *testing.T, influx *influxd.Server, db, measurement string) []influxd.Point {
	p, err := (&influxd.Client{URL: influx.URL()}).Points(context.Background(), db, measurement)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
