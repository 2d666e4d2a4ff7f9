package aliecs

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/kafkaproc"
	"github.com/lsst-ts/teststand/internal/kfault"
)

// TestFirstEventLostOnlyWithAutoCreation publishes 5 run events to a new
// topic of a cluster that creates topics on demand: real Apache Kafka
// (auto.create.topics.enable), and the embedded Kafka answering as real
// Kafka does (kfault.AutoCreateLikeKafka). A publisher relying on
// auto-creation loses the first event (counted as dropped); one that
// creates its topics first loses none. What is in the topic is read back
// and decoded.
func TestFirstEventLostOnlyWithAutoCreation(t *testing.T) {
	clusters := []struct {
		name  string
		start func(t *testing.T) []string
	}{
		{"embedded", func(t *testing.T) []string {
			cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cl.Close)
			kfault.AutoCreateLikeKafka(cl)
			return cl.ListenAddrs()
		}},
		{"apache-kafka", func(t *testing.T) []string {
			lib, err := kafkaproc.FindLib("..")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := kafkaproc.Start(ctx, kafkaproc.Config{Lib: lib, AutoCreateTopics: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Stop() })
			return c.Seeds()
		}},
	}
	cases := []struct {
		name        string
		autoCreate  bool
		wantSeqs    []uint64
		wantDropped int64
	}{
		{"topics created first", false, []uint64{1, 2, 3, 4, 5}, 0},
		{"relying on auto-creation", true, []uint64{2, 3, 4, 5}, 1},
	}
	for _, k := range clusters {
		t.Run(k.name, func(t *testing.T) {
			brokers := k.start(t)
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					topic := TopicRun + []string{"", ".auto"}[i] // a new topic each
					p, err := NewPublisher(Config{Brokers: brokers, Name: "ecs-test", RelyOnAutoCreate: c.autoCreate})
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close()
					for j := range 5 {
						if _, err := p.Publish(ctx, topic, RunEvent("env-1", uint32(100+j), "RUNNING")); err != nil {
							t.Fatal(err)
						}
					}
					if got := p.Stats.Dropped.Load(); got != c.wantDropped {
						t.Fatalf("dropped %d, want %d", got, c.wantDropped)
					}
					if seqs := readSeqs(t, ctx, brokers, topic, len(c.wantSeqs)); !slices.Equal(seqs, c.wantSeqs) {
						t.Fatalf("sequences %v, want %v", seqs, c.wantSeqs)
					}
				})
			}
		})
	}
}

// readSeqs reads n events from the start of topic and returns their
// sequences, checking each decodes as the run event published.
func readSeqs(t *testing.T, ctx context.Context, brokers []string, topic string, n int) []uint64 {
	t.Helper()
	r, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var seqs []uint64
	for len(seqs) < n {
		fs := r.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %v of %d events", seqs, n)
		}
		for _, rec := range fs.Records() {
			ev, err := Decode(rec.Value)
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetRunEvent().GetEnvironmentId() != "env-1" || ev.Publisher != "ecs-test" {
				t.Fatalf("event %v", ev)
			}
			seqs = append(seqs, ev.Sequence)
		}
	}
	return seqs
}
