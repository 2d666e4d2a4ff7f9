package kafkaproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/replication"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestOnApacheKafka runs the project's registry and replicator against
// real Apache Kafka: a one-node summit and a three-node USDF. Records
// replicate renamed with key, value, partition and timestamp; topic
// configs follow; the summit registry stores its schemas in real Kafka and
// the USDF's read-only registry resolves the same id from the replica of
// its storage topic; heartbeats arrive as summit.heartbeats.
func TestOnApacheKafka(t *testing.T) {
	lib, err := FindLib("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var summit, usdf *Cluster
	var serr, uerr error
	var wg sync.WaitGroup
	wg.Go(func() { summit, serr = Start(ctx, Config{Lib: lib, Nodes: 1}) })
	wg.Go(func() { usdf, uerr = Start(ctx, Config{Lib: lib, Nodes: 3}) })
	wg.Wait()
	for _, c := range []*Cluster{summit, usdf} {
		if c != nil {
			defer c.Stop()
		}
	}
	if serr != nil || uerr != nil {
		t.Fatalf("summit: %v\nusdf: %v", serr, uerr)
	}

	reg, err := registry.Start(ctx, registry.Config{Brokers: summit.Seeds(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rc, _ := sr.NewClient(sr.URLs(reg.URL()))
	const schema = `{"type":"record","name":"position","namespace":"lsst.sal.ATDome","fields":[{"name":"x","type":"double"}]}`
	ss, err := rc.CreateSchema(ctx, "lsst.sal.ATDome.position-value", sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(summit.Seeds()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	retention := "86400000"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": &retention}, "lsst.sal.ATDome.position"); err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1_790_000_000_000)
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, &kgo.Record{Topic: "lsst.sal.ATDome.position", Partition: int32(i % 2), Key: []byte(fmt.Sprint(i)),
			Value: []byte{0, 0, 0, 0, byte(ss.ID), byte(i)}, Timestamp: ts.Add(time.Duration(i) * time.Millisecond)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	mm2 := &replication.MM2Config{
		Flows: []replication.Config{{
			SourceAlias: "summit", TargetAlias: "usdf", SourceBrokers: summit.Seeds(), TargetBrokers: usdf.Seeds(),
			Topics: []string{`lsst\.sal\..*`, "registry-schemas"}, RefreshInterval: 500 * time.Millisecond,
		}},
		Heartbeats: []replication.HeartbeatConfig{{SourceAlias: "usdf", TargetAlias: "summit", TargetBrokers: summit.Seeds(), Interval: 200 * time.Millisecond}},
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- replication.RunMM2(rctx, mm2, replication.NewMetrics(), quiet()) }()
	defer func() { stop(); <-done }()

	uc, err := kgo.NewClient(kgo.SeedBrokers(usdf.Seeds()...), kgo.ConsumeTopics("summit.lsst.sal.ATDome.position"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	got := map[string]*kgo.Record{}
	for len(got) < 50 && ctx.Err() == nil {
		uc.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)] = r })
	}
	for _, w := range recs {
		g := got[string(w.Key)]
		if g == nil || g.Partition != w.Partition || !g.Timestamp.Equal(w.Timestamp) || string(g.Value) != string(w.Value) {
			t.Fatalf("record %s at the USDF: %+v, want partition %d, timestamp %v and the same value", w.Key, g, w.Partition, w.Timestamp)
		}
	}
	cfgs, err := kadm.NewClient(uc).DescribeTopicConfigs(ctx, "summit.lsst.sal.ATDome.position")
	if err != nil {
		t.Fatal(err)
	}
	var gotRetention string
	for _, c := range cfgs[0].Configs {
		if c.Key == "retention.ms" && c.Value != nil {
			gotRetention = *c.Value
		}
	}
	if gotRetention != retention {
		t.Errorf("replica retention.ms %q, want %q (synced at creation)", gotRetention, retention)
	}

	// The USDF's read-only registry serves the replicated storage topic.
	remote, err := registry.Start(ctx, registry.Config{Brokers: usdf.Seeds(), Topic: "summit.registry-schemas", ReadOnly: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	var status int
	for deadline := time.Now().Add(30 * time.Second); status != 200 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("%s/schemas/ids/%d", remote.URL(), ss.ID))
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
	}
	if status != 200 {
		t.Errorf("schema id %d does not resolve at the USDF's read-only registry (status %d)", ss.ID, status)
	}

	hb, err := kgo.NewClient(kgo.SeedBrokers(usdf.Seeds()...), kgo.ConsumeTopics("summit.heartbeats"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	hctx, hcancel := context.WithTimeout(ctx, 30*time.Second)
	defer hcancel()
	var beat *replication.Heartbeat
	for beat == nil && hctx.Err() == nil {
		hb.PollFetches(hctx).EachRecord(func(r *kgo.Record) {
			if h, err := replication.ParseHeartbeat(r.Key, r.Value); err == nil {
				beat = &h
			}
		})
	}
	if beat == nil || beat.SourceAlias != "usdf" || beat.TargetAlias != "summit" {
		t.Errorf("summit.heartbeats at the USDF: %+v", beat)
	}
}
