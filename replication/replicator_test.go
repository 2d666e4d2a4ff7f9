package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/kfault"
)

func cluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func client(t *testing.T, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// startFlow runs a replicator until the returned stop is called.
func startFlow(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := Run(ctx, cfg); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("replicator not ready")
	}
	return func() { cancel(); wg.Wait() }
}

// consumeAll reads n records of topic from the start.
func consumeAll(t *testing.T, c *kfake.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := client(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: got %d of %d records", topic, len(out), n)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func TestReplicatesRenamedWithEverything(t *testing.T) {
	src, dst := cluster(t), cluster(t)
	adm := kadm.NewClient(client(t, src))
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": ptr("compact")}, "lsst.sal.ATDome.position"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "other.topic"); err != nil {
		t.Fatal(err)
	}
	prod := client(t, src, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ts := time.UnixMilli(1_700_000_000_123)
	var want []*kgo.Record
	for i := range 30 {
		r := &kgo.Record{
			Topic: "lsst.sal.ATDome.position", Partition: int32(i % 3),
			Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{byte(i)}}}, Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
		}
		want = append(want, r)
	}
	if err := prod.ProduceSync(ctx, want...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "other.topic", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	stop := startFlow(t, Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		Topics: []string{`lsst\.sal\..*`}, RefreshInterval: 100 * time.Millisecond,
	})
	defer stop()
	got := consumeAll(t, dst, "summit.lsst.sal.ATDome.position", 30)
	byKey := map[string]*kgo.Record{}
	for _, r := range got {
		byKey[string(r.Key)] = r
	}
	for _, w := range want {
		g := byKey[string(w.Key)]
		if g == nil {
			t.Fatalf("record %s not replicated", w.Key)
		}
		if string(g.Value) != string(w.Value) || g.Partition != w.Partition || !g.Timestamp.Equal(w.Timestamp) ||
			len(g.Headers) != 1 || g.Headers[0].Key != "h" || g.Headers[0].Value[0] != w.Headers[0].Value[0] {
			t.Errorf("record %s: got value %q partition %d ts %v headers %v; want %q %d %v %v", w.Key, g.Value, g.Partition, g.Timestamp, g.Headers, w.Value, w.Partition, w.Timestamp, w.Headers)
		}
	}
	dadm := kadm.NewClient(client(t, dst))
	td, err := dadm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if td.Has("summit.other.topic") || td.Has("lsst.sal.ATDome.position") {
		t.Errorf("unexpected topics at target: %v", td.Names())
	}
	if n := len(td["summit.lsst.sal.ATDome.position"].Partitions); n != 3 {
		t.Errorf("target partitions %d, want 3", n)
	}
	policy := kafkatest.TopicConfig(t, dst.ListenAddrs(), "summit.lsst.sal.ATDome.position", "cleanup.policy")
	if policy != "compact" {
		t.Errorf("cleanup.policy at target %q, want compact (synced)", policy)
	}
}

// TestRestartContinues stops the replicator and starts it again: records
// written in between arrive, and none is lost.
func TestRestartContinues(t *testing.T) {
	src, dst := cluster(t), cluster(t)
	ctx := context.Background()
	adm := kadm.NewClient(client(t, src))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	prod := client(t, src)
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lsst.sal.Test.scalars", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		RefreshInterval: 100 * time.Millisecond,
	}
	produce(0, 20)
	stop := startFlow(t, cfg)
	consumeAll(t, dst, "summit.lsst.sal.Test.scalars", 20)
	stop()
	produce(20, 40)
	stop = startFlow(t, cfg)
	defer stop()
	seen := countValues(consumeAll(t, dst, "summit.lsst.sal.Test.scalars", 40))
	for i := range 40 {
		if seen[fmt.Sprint(i)] == 0 {
			t.Errorf("record %d lost across the restart", i)
		}
	}
}

func ptr(s string) *string { return &s }

// countValues counts the records of each value.
func countValues(recs []*kgo.Record) map[string]int {
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Value)]++
	}
	return seen
}

// TestPartitionsGrowAndConfigsSync adds partitions and changes a config at
// the source after replication started: the replica follows both, and a
// record in a new partition lands in the same partition at the target.
func TestPartitionsGrowAndConfigsSync(t *testing.T) {
	src, dst := cluster(t), cluster(t)
	ctx := context.Background()
	sadm := kadm.NewClient(client(t, src))
	if _, err := sadm.CreateTopic(ctx, 1, 1, nil, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		RefreshInterval: time.Hour, SyncConfigsInterval: time.Hour,
		SourceOpts: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond), kgo.MetadataMaxAge(200 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sadm.UpdatePartitions(ctx, 3, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	retention := "3600000"
	if _, err := sadm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &retention}}, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	// The growth is waited for: a broker may show it a moment later.
	grown := wait.ForCondition("discovery of the new partitions", func(ctx context.Context) error {
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err) // the check runs on the test's goroutine
		}
		if r.Stats.Partitions.Load() == 0 {
			return errors.New("none discovered")
		}
		return nil
	}).WithTimeout(5 * time.Second)
	grown.Interval = 60 * time.Millisecond
	if err := grown.WaitUntilReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SyncConfigs(ctx); err != nil {
		t.Fatal(err)
	}
	dadm := kadm.NewClient(client(t, dst))
	td, err := dadm.ListTopics(ctx, "summit.lsst.sal.Test.scalars")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["summit.lsst.sal.Test.scalars"].Partitions); n != 3 {
		t.Errorf("replica has %d partitions after the source grew to 3", n)
	}
	if got := r.Stats.Partitions.Load(); got != 2 {
		t.Errorf("Stats.Partitions = %d, want 2", got)
	}
	rc, err := dadm.DescribeTopicConfigs(ctx, "summit.lsst.sal.Test.scalars")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, c := range rc[0].Configs {
		if c.Key == "retention.ms" && c.Value != nil {
			got = *c.Value
		}
	}
	if got != retention {
		t.Errorf("retention.ms at the replica %q, want %q (synced)", got, retention)
	}
	prod := client(t, src, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lsst.sal.Test.scalars", Partition: 2, Value: []byte("p2")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	recs := consumeAll(t, dst, "summit.lsst.sal.Test.scalars", 1)
	if recs[0].Partition != 2 || string(recs[0].Value) != "p2" {
		t.Errorf("record in new partition arrived as partition %d value %q", recs[0].Partition, recs[0].Value)
	}
	var lags []Lag
	observed := wait.ForCondition("a lag observed", func(context.Context) error {
		if lags = r.Metrics().Lags(); len(lags) == 0 { // observed just after the target's ack
			return errors.New("none")
		}
		return nil
	}).WithTimeout(5 * time.Second)
	observed.Interval = 20 * time.Millisecond
	_ = observed.WaitUntilReady(ctx) // none is said below
	if len(lags) != 1 || lags[0].Topic != "summit.lsst.sal.Test.scalars" || lags[0].Partition != 2 || lags[0].Records != 0 {
		t.Errorf("lags = %+v, want one caught-up partition 2", lags)
	}
}

// TestUncommittedCopiesAreDuplicatedNotLost: the target acknowledged a
// batch but the source commit failed (the replicator was killed in
// between): the next run copies the batch again. Nothing is lost, and the
// duplicates are exactly the uncommitted records.
func TestUncommittedCopiesAreDuplicatedNotLost(t *testing.T) {
	src, dst := cluster(t), cluster(t)
	ctx := context.Background()
	if _, err := kadm.NewClient(client(t, src)).CreateTopic(ctx, 1, 1, nil, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	prod := client(t, src)
	for i := range 20 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lsst.sal.Test.scalars", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	fault := kfault.FailOffsetCommits(src)
	fault.Set(true)
	cfg := Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		RefreshInterval: time.Hour,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	stop := startFlow(t, cfg)
	consumeAll(t, dst, "summit.lsst.sal.Test.scalars", 20)
	stop()
	fault.Set(false)
	stop = startFlow(t, cfg)
	defer stop()
	seen := countValues(consumeAll(t, dst, "summit.lsst.sal.Test.scalars", 40))
	for i := range 20 {
		if seen[fmt.Sprint(i)] != 2 {
			t.Errorf("record %d copied %d times, want 2 (once per run: its commit failed)", i, seen[fmt.Sprint(i)])
		}
	}
}

// TestRefreshSeesNewTopicsAtOnce: a Refresh asked for right after
// another takes up a topic created in between, however long the source
// client may cache metadata (a stand's settling relies on it; a cached
// answer missed the topic until the next periodic refresh).
func TestRefreshSeesNewTopicsAtOnce(t *testing.T) {
	src, dst := cluster(t), cluster(t)
	ctx := context.Background()
	r, err := New(Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		RefreshInterval: time.Hour, SyncConfigsInterval: time.Hour,
		SourceOpts: []kgo.Opt{kgo.MetadataMinAge(time.Hour), kgo.MetadataMaxAge(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sadm := kadm.NewClient(client(t, src))
	if _, err := sadm.CreateTopic(ctx, 2, 1, nil, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	td, err := kadm.NewClient(client(t, dst)).ListTopics(ctx, "summit.lsst.sal.Test.scalars")
	if err != nil {
		t.Fatal(err)
	}
	if d := td["summit.lsst.sal.Test.scalars"]; d.Err != nil || len(d.Partitions) != 2 {
		t.Fatalf("replica after one refresh: %+v (topics taken up %d)", d, r.Stats.Topics.Load())
	}
}
