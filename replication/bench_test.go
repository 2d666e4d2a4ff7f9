package replication

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkReplicate copies records from one embedded cluster to another
// through a running replicator, spread evenly over 1 or 500 source topics
// (one summit CSC against a summit's worth of SAL topics). One op is one
// record; records/s is the sustained rate with a producer writing at the
// same time, and discover-ms is how long the first discovery took to
// create every replica.
func BenchmarkReplicate(b *testing.B) {
	for _, topics := range []int{1, 500} {
		b.Run(fmt.Sprintf("topics=%d", topics), func(b *testing.B) {
			benchReplicate(b, topics)
		})
	}
}

func benchReplicate(b *testing.B, topics int) {
	b.StopTimer()
	newCluster := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return c
	}
	src, dst := newCluster(), newCluster()
	ctx := context.Background()
	prod, err := kgo.NewClient(kgo.SeedBrokers(src.ListenAddrs()...), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(prod.Close)
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("lsst.sal.Bench%03d.telemetry", i)
	}
	if _, err := kadm.NewClient(prod).CreateTopics(ctx, 1, 1, nil, names...); err != nil {
		b.Fatal(err)
	}
	r, err := New(Config{
		SourceAlias: "summit", TargetAlias: "usdf",
		SourceBrokers: src.ListenAddrs(), TargetBrokers: dst.ListenAddrs(),
		RefreshInterval: time.Hour, SyncConfigsInterval: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ready := make(chan time.Time, 1)
	r.SetReady(func() { ready <- time.Now() })
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- r.Run(rctx) }()
	b.Cleanup(func() { cancel(); <-done })
	discovered := (<-ready).Sub(began)
	if got := r.Stats.Topics.Load(); got != int64(topics) {
		b.Fatalf("%d topics discovered, want %d", got, topics)
	}
	value := make([]byte, 250) // a SAL telemetry sample's size in Avro
	b.StartTimer()
	start := time.Now()
	for i := range b.N {
		prod.Produce(ctx, &kgo.Record{Topic: names[i%topics], Value: value}, nil)
	}
	for r.Stats.Replicated.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(discovered.Milliseconds()), "discover-ms")
}
