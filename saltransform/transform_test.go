package saltransform

import (
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
)

// TestTransformer writes SAL text (and one malformed line) to a real
// Kafka protocol cluster: each good line comes out on
// lsst.sal.<CSC>_<topic> as the wire format of the schema registered
// under that topic's subject, with the values written and the stamps the
// transform sets; the bad line is counted and skipped.
func TestTransformer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ifs := builtin(t)
	ready := make(chan struct{})
	x, err := New(Config{Brokers: c.ListenAddrs(), RegistryURL: reg.URL(), Interfaces: ifs, CSCs: []string{"ATDome"}, Logger: log,
		KafkaOpts: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)}, Ready: func() { close(ready) }})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Run(rctx) }()
	defer func() { stop(); <-done }()
	<-ready

	tp := ifs.Topic("ATDome", "position")
	in := sal.NewSample(tp)
	in.Values[tp.FieldIndex("private_sndStamp")] = 1.7e9 + 0.5
	in.Values[tp.FieldIndex("private_seqNum")] = int32(3)
	in.Values[tp.FieldIndex("private_identity")] = "ATDome"
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(OutputTopic(tp)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range []string{"not SAL text", Format(in)} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "ATDome_telemetry", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var rec *kgo.Record
	for rec == nil {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("nothing on %s; transformed %d, malformed %d", OutputTopic(tp), x.Stats.Transformed.Load(), x.Stats.Malformed.Load())
		}
		if recs := fs.Records(); len(recs) > 0 {
			rec = recs[0]
		}
	}
	src, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := src.SchemaByVersion(ctx, OutputTopic(tp)+"-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Value[0] != 0 || int(binary.BigEndian.Uint32(rec.Value[1:5])) != ss.ID || ss.Schema.Schema != tp.Schema() {
		t.Fatalf("record is not the wire format of the topic's registered schema (id %d)", ss.ID)
	}
	out, err := tp.DecodeAvro(rec.Value[5:])
	if err != nil {
		t.Fatal(err)
	}
	if efd := out.Get("private_efdStamp").(float64); efd != sal.UTCFromTAI(1.7e9+0.5) {
		t.Errorf("private_efdStamp %v, want UTC of sndStamp", efd)
	}
	if k := out.Get("private_kafkaStamp").(float64); k < sal.TAINow()-60 {
		t.Errorf("private_kafkaStamp %v not set at transform time", k)
	}
	for _, f := range []string{"private_efdStamp", "private_kafkaStamp"} {
		out.Values[tp.FieldIndex(f)] = 0.0
	}
	if !reflect.DeepEqual(out.Values, in.Values) {
		t.Fatalf("values %v, wrote %v", out.Values, in.Values)
	}
	// The transformer counts a record once its produce is acknowledged,
	// which may be after the record is readable: wait for the counts.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for x.Stats.Malformed.Load() != 1 || x.Stats.Transformed.Load() != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("malformed %d, transformed %d; want 1 and 1", x.Stats.Malformed.Load(), x.Stats.Transformed.Load())
		case <-tick.C:
		}
	}
}
