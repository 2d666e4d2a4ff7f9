package kafkaproc

import (
	"context"
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
)

// sinkBed is what a comparison of sinks reads and writes: one real Kafka
// node holding SAL records, the project's registry on it, an influxd, and
// Telegraf's binary; all stopped when the test ends.
type sinkBed struct {
	kafka    *Cluster
	influx   *influxd.Server
	reg      *registry.Server
	ifaces   *sal.Interfaces
	telegraf string
	cl       *kgo.Client
}

func newSinkBed(tb testing.TB, ctx context.Context) *sinkBed {
	tb.Helper()
	bin, err := telegraf.Find("../..")
	if err != nil {
		tb.Fatal(err)
	}
	ibin, err := influxd.Find("../..")
	if err != nil {
		tb.Fatal(err)
	}
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		tb.Fatal(err)
	}
	b := &sinkBed{telegraf: bin, ifaces: ifaces, kafka: startClusters(tb, ctx, 1)[0]}
	if b.influx, err = influxd.Start(ctx, ibin); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.influx.Stop() })
	if b.reg, err = registry.Start(ctx, registry.Config{Brokers: b.kafka.Seeds(), Logger: quiet()}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.reg.Close() })
	if b.cl, err = kgo.NewClient(kgo.SeedBrokers(b.kafka.Seeds()...), kgo.ProducerLinger(5*time.Millisecond)); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.cl.Close)
	return b
}

// produce creates tp's topic, registers its schema and writes n samples
// of it in the registry's wire format: fields filled from i, salIndex 1
// where the CSC is indexed, private_efdStamp = stamp(i).
func (b *sinkBed) produce(tb testing.TB, ctx context.Context, tp *sal.Topic, n int, stamp func(i int) float64) {
	tb.Helper()
	if _, err := kadm.NewClient(b.cl).CreateTopic(ctx, 1, 1, nil, tp.KafkaTopic("")); err != nil {
		tb.Fatal(err)
	}
	rc, err := sr.NewClient(sr.URLs(b.reg.URL()))
	if err != nil {
		tb.Fatal(err)
	}
	ss, err := rc.CreateSchema(ctx, tp.Subject(""), sr.Schema{Schema: tp.Schema()})
	if err != nil {
		tb.Fatal(err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		s := sal.NewSample(tp)
		fill(s, i)
		s.Values[tp.FieldIndex("private_efdStamp")] = stamp(i)
		if x := tp.FieldIndex("salIndex"); x >= 0 {
			s.Values[x] = int32(1)
		}
		v, err := tp.AppendAvro([]byte{0, byte(ss.ID >> 24), byte(ss.ID >> 16), byte(ss.ID >> 8), byte(ss.ID)}, s)
		if err != nil {
			tb.Fatal(err)
		}
		recs[i] = &kgo.Record{Topic: tp.KafkaTopic(""), Value: v}
	}
	if err := b.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
}
