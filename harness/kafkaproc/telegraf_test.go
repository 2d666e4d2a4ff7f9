package kafkaproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
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
	bin, err := telegraf.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	lib, err := FindLib("../..")
	if err != nil {
		t.Fatal(err)
	}
	ibin, err := influxd.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kc, err := Start(ctx, Config{Lib: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Stop()
	influx, err := influxd.Start(ctx, ibin)
	if err != nil {
		t.Fatal(err)
	}
	defer influx.Stop()
	reg, err := registry.Start(ctx, registry.Config{Brokers: kc.Seeds(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ifaces, err := sal.Load(sample.FS)
	if err != nil {
		t.Fatal(err)
	}
	topics := []*sal.Topic{
		ifaces.Topic("ATDome", "position"), ifaces.Topic("MTM1M3", "forceActuatorData"),
		ifaces.Topic("Test", "arrays"), ifaces.Topic("Test", "scalars"), ifaces.Topic("Test", "logevent_scalars"),
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Seeds()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var names []string
	for _, tp := range topics {
		names = append(names, tp.KafkaTopic(""))
	}
	if _, err := kadm.NewClient(prod).CreateTopics(ctx, 1, 1, nil, names...); err != nil {
		t.Fatal(err)
	}
	const n = 20
	rc, _ := sr.NewClient(sr.URLs(reg.URL()))
	for _, tp := range topics {
		ss, err := rc.CreateSchema(ctx, tp.Subject(""), sr.Schema{Schema: tp.Schema()})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			s := sal.NewSample(tp)
			fill(s, i)
			s.Values[tp.FieldIndex("private_efdStamp")] = 1_790_000_000.0 + float64(i)*0.0123456
			if x := tp.FieldIndex("salIndex"); x >= 0 {
				s.Values[x] = int32(1)
			}
			v, err := tp.AppendAvro([]byte{0, byte(ss.ID >> 24), byte(ss.ID >> 16), byte(ss.ID >> 8), byte(ss.ID)}, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: tp.KafkaTopic(""), Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
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
	var logs strings.Builder
	cmd := exec.Command(bin, "--config", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

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
		t.Fatalf("telegraf wrote %d points, want %d\n%s", got, want, logs.String())
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
