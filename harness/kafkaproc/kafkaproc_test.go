package kafkaproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
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

// TestSameNamesAsMirrorMaker2 replicates the same source topics with real
// MirrorMaker 2 and with our replicator, each between two fresh clusters,
// and compares the topic names each creates at its target: the names a
// stand predicts are the ones MM2 makes.
func TestSameNamesAsMirrorMaker2(t *testing.T) {
	lib, err := FindLib("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clusters := make([]*Cluster, 4) // MM2's summit, usdf; ours
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Go(func() { clusters[i], errs[i] = Start(ctx, Config{Lib: lib}) })
	}
	wg.Wait()
	for i, c := range clusters {
		if c != nil {
			defer c.Stop()
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	source := []string{"lsst.sal.ATDome.position", "lsst.sal.MTM1M3.forceActuatorData", "registry-schemas", "lsst.dm.metric", "other.topic", "mm2-offsets.x.internal"}
	for _, src := range []*Cluster{clusters[0], clusters[2]} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(src.Seeds()...))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, source...); err != nil {
			t.Fatal(err)
		}
		for _, topic := range source {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		cl.Close()
	}
	props := fmt.Sprintf(`clusters = summit, usdf
summit.bootstrap.servers = %s
usdf.bootstrap.servers = %s
summit->usdf.enabled = true
summit->usdf.topics = lsst\\.sal\\..*, registry-schemas
replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
refresh.topics.interval.seconds = 1
emit.checkpoints.enabled = false
sync.group.offsets.enabled = false
`, clusters[0].Seeds()[0], clusters[1].Seeds()[0])
	mm, err := StartMirrorMaker(Config{Lib: lib}, props)
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Stop()
	// Ours from the same keys.
	ourProps := strings.NewReplacer(clusters[0].Seeds()[0], clusters[2].Seeds()[0], clusters[1].Seeds()[0], clusters[3].Seeds()[0]).Replace(props)
	parsed, err := replication.ReadProperties(strings.NewReader(ourProps))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := replication.NewMM2Config("mm2.properties", parsed, nil)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- replication.RunMM2(rctx, cfg, replication.NewMetrics(), quiet()) }()
	defer func() { stop(); <-done }()

	// Topics at each target that replication made: MM2's own bookkeeping
	// topics (mm2-*, *.internal, connect's) are left out of the comparison.
	made := func(c *Cluster) map[string]bool {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Seeds()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		td, err := kadm.NewClient(cl).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, n := range td.Names() {
			if strings.HasPrefix(n, "mm2-") || strings.HasSuffix(n, ".internal") || strings.HasPrefix(n, "__") {
				continue
			}
			out[n] = true
		}
		return out
	}
	want := []string{"summit.lsst.sal.ATDome.position", "summit.lsst.sal.MTM1M3.forceActuatorData", "summit.registry-schemas", "heartbeats"}
	var theirs, ours map[string]bool
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		theirs, ours = made(clusters[1]), made(clusters[3])
		complete := true
		for _, w := range want {
			complete = complete && theirs[w] && ours[w]
		}
		if complete {
			break
		}
	}
	t.Logf("MirrorMaker 2 made %v; ours made %v", keys(theirs), keys(ours))
	for _, w := range want {
		if !theirs[w] {
			t.Errorf("MirrorMaker 2 did not make %s\n%s", w, mm.Logs(3000))
		}
	}
	for n := range theirs {
		if !ours[n] {
			t.Errorf("MirrorMaker 2 made %s, ours did not", n)
		}
	}
	for n := range ours {
		if !theirs[n] {
			t.Errorf("ours made %s, MirrorMaker 2 did not", n)
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
