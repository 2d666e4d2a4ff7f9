package kafkaproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/wait"
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
	// The USDF has three brokers: the one asked may not have learnt the
	// replica's configs from the metadata log yet, though the records came.
	replicaRetention := wait.ForCondition("the replica's retention.ms", func(ctx context.Context) error {
		cfgs, err := kadm.NewClient(uc).DescribeTopicConfigs(ctx, "summit.lsst.sal.ATDome.position")
		if err != nil {
			return err
		}
		cfg, err := cfgs.On("summit.lsst.sal.ATDome.position", nil)
		if err == nil {
			err = cfg.Err
		}
		if err != nil {
			return err
		}
		for _, c := range cfg.Configs {
			if c.Key == "retention.ms" && c.MaybeValue() == retention {
				return nil
			}
		}
		return fmt.Errorf("not %s (synced at creation): %v", retention, cfg.Configs)
	}).WithTimeout(30 * time.Second)
	if err := replicaRetention.WaitUntilReady(ctx); err != nil {
		t.Error(err)
	}

	// The USDF's read-only registry serves the replicated storage topic.
	remote, err := registry.Start(ctx, registry.Config{Brokers: usdf.Seeds(), Topic: "summit.registry-schemas", ReadOnly: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	// It has what replication copied so far; the schema's record may come
	// after the registry started.
	if err := wait.ForHTTP(fmt.Sprintf("%s/schemas/ids/%d", remote.URL(), ss.ID)).WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
		t.Errorf("schema id %d does not resolve at the USDF's read-only registry: %v", ss.ID, err)
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

// TestSameNamesAsMirrorMaker2 replicates the same topics with real
// MirrorMaker 2 and with our replicator, each between two fresh clusters
// fed the same properties, and compares the topic names made at both
// sites: the names a stand predicts are the ones MM2 makes, one-way and
// two-way (where cycle detection must keep replicas from coming back).
func TestSameNamesAsMirrorMaker2(t *testing.T) {
	lib, err := FindLib("../..")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		flows  string
		topics [2][]string // at the summit, at the USDF
		want   [2][]string // made at the summit, at the USDF
	}{
		{
			name:   "one-way",
			flows:  "summit->usdf.enabled = true\nsummit->usdf.topics = lsst\\.sal\\..*, registry-schemas\n",
			topics: [2][]string{{"lsst.sal.ATDome.position", "lsst.sal.MTM1M3.forceActuatorData", "registry-schemas", "lsst.dm.metric", "other.topic", "mm2-offsets.x.internal"}},
			want:   [2][]string{{"heartbeats"}, {"heartbeats", "summit.heartbeats", "summit.lsst.sal.ATDome.position", "summit.lsst.sal.MTM1M3.forceActuatorData", "summit.registry-schemas"}},
		},
		{
			name:   "two-way",
			flows:  "summit->usdf.enabled = true\nusdf->summit.enabled = true\n",
			topics: [2][]string{{"lsst.sal.ATDome.position", "registry-schemas"}, {"lsst.sal.Test.scalars"}},
			want: [2][]string{
				{"heartbeats", "usdf.heartbeats", "usdf.lsst.sal.Test.scalars"},
				{"heartbeats", "summit.heartbeats", "summit.lsst.sal.ATDome.position", "summit.registry-schemas"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			clusters := make([]*Cluster, 4) // MM2's summit, usdf; ours
			errs := make([]error, 4)
			var wg sync.WaitGroup
			for i := range clusters {
				wg.Go(func() { clusters[i], errs[i] = Start(ctx, Config{Lib: lib}) })
			}
			wg.Wait()
			for i, cl := range clusters {
				if cl != nil {
					defer cl.Stop()
				}
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
			}
			for i, cl := range clusters {
				topics := c.topics[i%2]
				if len(topics) == 0 {
					continue
				}
				kc, err := kgo.NewClient(kgo.SeedBrokers(cl.Seeds()...))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := kadm.NewClient(kc).CreateTopics(ctx, 1, 1, nil, topics...); err != nil {
					t.Fatal(err)
				}
				for _, topic := range topics {
					if err := kc.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
						t.Fatal(err)
					}
				}
				kc.Close()
			}
			props := func(summit, usdf *Cluster) string {
				return fmt.Sprintf("clusters = summit, usdf\nsummit.bootstrap.servers = %s\nusdf.bootstrap.servers = %s\n", summit.Seeds()[0], usdf.Seeds()[0]) +
					c.flows + `replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
refresh.topics.interval.seconds = 1
emit.checkpoints.enabled = false
sync.group.offsets.enabled = false
`
			}
			mm, err := StartMirrorMaker(Config{Lib: lib}, props(clusters[0], clusters[1]))
			if err != nil {
				t.Fatal(err)
			}
			defer mm.Stop()
			parsed, err := replication.ReadProperties(strings.NewReader(props(clusters[2], clusters[3])))
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

			// Topics replication made: the source topics and MM2's own
			// bookkeeping (mm2-*, *.internal, __*) are left out.
			made := func(cl *Cluster, site int) map[string]bool {
				kc, err := kgo.NewClient(kgo.SeedBrokers(cl.Seeds()...))
				if err != nil {
					t.Fatal(err)
				}
				defer kc.Close()
				td, err := kadm.NewClient(kc).ListTopics(ctx)
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]bool{}
				for _, n := range td.Names() {
					if strings.HasPrefix(n, "mm2-") || strings.HasSuffix(n, ".internal") || strings.HasPrefix(n, "__") || slices.Contains(c.topics[site], n) {
						continue
					}
					out[n] = true
				}
				return out
			}
			var theirs, ours [2]map[string]bool
			all := &wait.Condition{What: "the wanted topics at both sites, from both replicators", Timeout: 3 * time.Minute, Interval: time.Second,
				Check: func(context.Context) error {
					for site := range 2 {
						theirs[site], ours[site] = made(clusters[site], site), made(clusters[2+site], site)
						for _, w := range c.want[site] {
							if !theirs[site][w] || !ours[site][w] {
								return fmt.Errorf("%s missing at site %d", w, site)
							}
						}
					}
					return nil
				}}
			_ = all.WaitUntilReady(ctx) // what is missing is said below, per site and replicator
			for site, name := range []string{"summit", "usdf"} {
				t.Logf("at the %s MirrorMaker 2 made %v; ours made %v", name, keys(theirs[site]), keys(ours[site]))
				if !slices.Equal(keys(theirs[site]), c.want[site]) {
					t.Errorf("at the %s MirrorMaker 2 made %v, want %v\n%s", name, keys(theirs[site]), c.want[site], mm.Logs(3000))
				}
				if !slices.Equal(keys(ours[site]), keys(theirs[site])) {
					t.Errorf("at the %s ours made %v, MirrorMaker 2 made %v", name, keys(ours[site]), keys(theirs[site]))
				}
			}
		})
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
