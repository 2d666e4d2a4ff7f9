package producer

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/kfault"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

type rig struct {
	cluster *kfake.Cluster
	reg     *registry.Server
	bus     *dds.Bus
	ifaces  *sal.Interfaces
}

func newRig(t *testing.T) *rig {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	bus := dds.NewBus()
	t.Cleanup(bus.Close)
	return &rig{cluster: c, reg: reg, bus: bus, ifaces: ifaces}
}

// start runs a producer until the test ends.
func (r *rig) start(t *testing.T, cfg Config) *Producer {
	t.Helper()
	cfg.Brokers, cfg.RegistryURL, cfg.Bus, cfg.Interfaces = r.cluster.ListenAddrs(), r.reg.URL(), r.bus, r.ifaces
	ctx, cancel := context.WithCancel(context.Background())
	p, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return p
}

func consume(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	return kafkatest.Consume(t, brokers, topic, n)
}

func TestForwardsFramedRecordsWithStamps(t *testing.T) {
	r := newRig(t)
	r.start(t, Config{Components: []string{"ATDome", "MTHexapod:2"}})
	ctx := context.Background()
	cases := []struct {
		csc, topic string
		index      int32
		key        string
	}{
		{"ATDome", "position", 0, ""},
		{"ATDome", "logevent_azimuthState", 0, `{ "name": "ATDome", "topic": "logevent_azimuthState" }`},
		{"MTHexapod", "logevent_inPosition", 2, `{ "name": "MTHexapod", "index": 2, "topic": "logevent_inPosition" }`},
	}
	reg, _ := sr.NewClient(sr.URLs(r.reg.URL()))
	adm := kadm.NewClient(mustClient(t, r.cluster))
	for _, c := range cases {
		tp := r.ifaces.Topic(c.csc, c.topic)
		var ledger []mocksal.Write
		if _, err := mocksal.Run(ctx, r.bus, mocksal.WriterConfig{Topic: tp, Index: c.index, Count: 5, RateHz: 100}, func(w mocksal.Write) { ledger = append(ledger, w) }); err != nil {
			t.Fatal(err)
		}
		recs := consume(t, r.cluster.ListenAddrs(), tp.KafkaTopic(""), 5)
		for i, rec := range recs {
			if rec.Value[0] != 0 {
				t.Fatalf("%s: magic byte %d", c.topic, rec.Value[0])
			}
			id := int(binary.BigEndian.Uint32(rec.Value[1:5]))
			got, err := reg.SchemaByID(ctx, id)
			if err != nil || got.Schema != tp.Schema() {
				t.Fatalf("%s: schema id %d does not resolve to the topic's schema: %v", c.topic, id, err)
			}
			s, err := tp.DecodeAvro(rec.Value[5:])
			if err != nil {
				t.Fatal(err)
			}
			snd, rcv, efd, kafka := s.Get("private_sndStamp").(float64), s.Get("private_rcvStamp").(float64), s.Get("private_efdStamp").(float64), s.Get("private_kafkaStamp").(float64)
			if snd != ledger[i].SndStamp || rcv < snd || kafka < rcv || efd != snd-sal.TAIMinusUTC {
				t.Errorf("%s #%d stamps snd %f rcv %f kafka %f efd %f", c.topic, i, snd, rcv, kafka, efd)
			}
			if s.Get("private_seqNum") != int32(i+1) {
				t.Errorf("%s #%d seqNum %v", c.topic, i, s.Get("private_seqNum"))
			}
			if string(rec.Key) != c.key {
				t.Errorf("%s key %q, want %q", c.topic, rec.Key, c.key)
			}
		}
		rc, err := adm.DescribeTopicConfigs(ctx, tp.KafkaTopic(""))
		if err != nil {
			t.Fatal(err)
		}
		policy := ""
		if cfg, err := rc.On(tp.KafkaTopic(""), nil); err == nil {
			for _, kv := range cfg.Configs {
				if kv.Key == "cleanup.policy" && kv.Value != nil && kv.Source == 1 {
					policy = *kv.Value
				}
			}
		}
		if wantCompact := tp.Kind != sal.Telemetry; wantCompact != (policy == "compact") {
			t.Errorf("%s: cleanup.policy %q", c.topic, policy)
		}
	}
}

// TestIndexFilter: a producer for MTHexapod:2 forwards index 2 only.
func TestIndexFilter(t *testing.T) {
	r := newRig(t)
	p := r.start(t, Config{Components: []string{"MTHexapod:2"}})
	tp := r.ifaces.Topic("MTHexapod", "application")
	for _, idx := range []int32{1, 2} {
		if _, err := mocksal.Run(context.Background(), r.bus, mocksal.WriterConfig{Topic: tp, Index: idx, Count: 3}, nil); err != nil {
			t.Fatal(err)
		}
	}
	recs := consume(t, r.cluster.ListenAddrs(), tp.KafkaTopic(""), 3)
	for _, rec := range recs {
		s, _ := tp.DecodeAvro(rec.Value[5:])
		if s.Get("salIndex") != int32(2) {
			t.Errorf("salIndex %v forwarded by a producer for index 2", s.Get("salIndex"))
		}
	}
	// No wait needed: index 1's samples went onto the bus before index
	// 2's, so a producer that took them has counted them by now.
	if n := p.Stats.Read.Load(); n != 3 {
		t.Errorf("read %d samples, want 3", n)
	}
}

func TestConfigErrors(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Components: []string{"Nope"}}, `unknown CSC "Nope"`},
		{Config{Components: []string{"MTHexapod:x"}}, `bad index in "MTHexapod:x"`},
		{Config{}, "no CSCs given"},
		{Config{Components: []string{"ATDome"}, Acks: "2"}, `wait-ack "2"`},
		{Config{Components: []string{"ATDome"}, Compression: "brotli"}, `compression "brotli"`},
		{Config{Components: []string{"ATDome:1"}}, `ATDome is not indexed`},
		{Config{Components: []string{"Test:1"}, NoAutoRegister: true}, "schema of lsst.sal.Test.logevent_heartbeat-value is not registered at http://127.0.0.1"},
	}
	for _, c := range cases {
		cfg := c.cfg
		cfg.Brokers, cfg.Bus, cfg.Interfaces = r.cluster.ListenAddrs(), r.bus, r.ifaces
		if cfg.RegistryURL == "" {
			cfg.RegistryURL = r.reg.URL()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := New(ctx, cfg)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg.Components, err, c.want)
		}
	}
}

// TestUnreachableRegistryIsWaitedFor starts a producer while its registry
// is not listening yet, writes samples, and then starts the registry: the
// producer must have queued them and forward every one, framed with the
// id the registry gave. A producer that gave up on the registry, or read
// its DDS queue only once it had a schema, loses them.
func TestUnreachableRegistryIsWaitedFor(t *testing.T) {
	r := newRig(t)
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := New(ctx, Config{Components: []string{"ATDome"}, Brokers: r.cluster.ListenAddrs(),
		RegistryURL: "http://" + addr, Bus: r.bus, Interfaces: r.ifaces})
	if err != nil {
		t.Fatalf("a producer whose registry is down did not start: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	tp := r.ifaces.Topic("ATDome", "position")
	if _, err := mocksal.Run(ctx, r.bus, mocksal.WriterConfig{Topic: tp, Count: 20, RateHz: 200}, nil); err != nil {
		t.Fatal(err)
	}
	if n := p.Stats.Produced.Load(); n != 0 {
		t.Fatalf("%d samples produced with no registry to frame them", n)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	reg, err := registry.Start(sctx, registry.Config{Brokers: r.cluster.ListenAddrs(), Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	recs := consume(t, r.cluster.ListenAddrs(), tp.KafkaTopic(""), 20)
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	for i, rec := range recs {
		id := int(binary.BigEndian.Uint32(rec.Value[1:5]))
		if got, err := cl.SchemaByID(ctx, id); err != nil || got.Schema != tp.Schema() {
			t.Fatalf("record %d: schema id %d does not resolve to the topic's schema: %v", i, id, err)
		}
		s, err := tp.DecodeAvro(rec.Value[5:])
		if err != nil {
			t.Fatal(err)
		}
		if s.Get("private_seqNum") != int32(i+1) {
			t.Fatalf("record %d has seqNum %v: samples were lost while the registry was down", i, s.Get("private_seqNum"))
		}
	}
}

func mustClient(t *testing.T, c *kfake.Cluster) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestNoAutoRegisterUsesExistingSchemas: with auto-registration off a
// producer starts when every schema is registered, and gets the same ids.
func TestNoAutoRegisterUsesExistingSchemas(t *testing.T) {
	r := newRig(t)
	first := r.start(t, Config{Components: []string{"ATDome"}})
	second := r.start(t, Config{Components: []string{"ATDome"}, NoAutoRegister: true, Domain: 3})
	for i := range first.readers {
		if first.readers[i].schemaID != second.readers[i].schemaID {
			t.Errorf("%s: id %d with auto-registration, %d without", first.readers[i].kafka, first.readers[i].schemaID, second.readers[i].schemaID)
		}
	}
}

// TestHotAddLosesNothing adds CSCs to a running producer while another
// CSC's samples flow: none of those is lost, and the new CSC is forwarded
// from then on, with its --file topic set's partitions.
func TestHotAddLosesNothing(t *testing.T) {
	r := newRig(t)
	p := r.start(t, Config{Components: []string{"ATDome"}})
	pos := r.ifaces.Topic("ATDome", "position")
	ctx := context.Background()
	done := make(chan int)
	go func() {
		n, err := mocksal.Run(ctx, r.bus, mocksal.WriterConfig{Topic: pos, RateHz: 200, Count: 200}, nil)
		if err != nil {
			t.Error(err)
		}
		done <- n
	}()
	// Add while the samples flow, not before the first.
	flowing := wait.ForCondition("ATDome position samples read", func(context.Context) error {
		if n := p.Stats.Read.Load(); n < 20 {
			return fmt.Errorf("%d read", n)
		}
		return nil
	}).WithTimeout(10 * time.Second)
	flowing.Interval = 5 * time.Millisecond
	if err := flowing.WaitUntilReady(ctx); err != nil {
		t.Fatal(err)
	}
	added, err := p.AddGroups(ctx, []string{"ATDome", "Test:2"}, []Group{{Component: "MTM1M3", TopicSets: []TopicSet{{Telemetry: []string{"forceActuatorData"}, Partitions: 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"Test:2", "MTM1M3"}, added); d != "" {
		t.Errorf("added:\n%s", d)
	}
	n := <-done
	if got := len(consume(t, r.cluster.ListenAddrs(), pos.KafkaTopic(""), n)); got != n {
		t.Fatalf("ATDome position: %d of %d records during the hot add", got, n)
	}
	scalars := r.ifaces.Topic("Test", "scalars")
	if _, err := mocksal.Run(ctx, r.bus, mocksal.WriterConfig{Topic: scalars, Index: 2, Count: 5}, nil); err != nil {
		t.Fatal(err)
	}
	consume(t, r.cluster.ListenAddrs(), scalars.KafkaTopic(""), 5)
	adm := kadm.NewClient(mustClient(t, r.cluster))
	td, err := adm.ListTopics(ctx, "lsst.sal.MTM1M3.forceActuatorData")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["lsst.sal.MTM1M3.forceActuatorData"].Partitions); n != 2 {
		t.Errorf("forceActuatorData created with %d partitions, want 2 from its topic set", n)
	}
	if d := cmp.Diff([]string{"ATDome", "MTM1M3", "Test:2"}, p.Components()); d != "" {
		t.Errorf("components:\n%s", d)
	}
}

// TestBackpressureLosesNothing slows the broker down so that the
// producer's read queue fills: the queue warns as salobj does, the writer
// is held back instead of samples being dropped, and every sample arrives.
func TestBackpressureLosesNothing(t *testing.T) {
	r := newRig(t)
	r.cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		r.cluster.KeepControl()
		time.Sleep(2 * time.Millisecond)
		return nil, nil, false
	})
	var logs proc.SyncBuffer
	p := r.start(t, Config{Components: []string{"ATDome"}, QueueDepth: 20,
		Logger:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		KafkaOpts: []kgo.Opt{kgo.MaxBufferedRecords(2)}})
	pos := r.ifaces.Topic("ATDome", "position")
	var ledger []mocksal.Write
	n, err := mocksal.Run(context.Background(), r.bus, mocksal.WriterConfig{Topic: pos, Count: 300}, func(w mocksal.Write) { ledger = append(ledger, w) })
	if err != nil || n != 300 {
		t.Fatalf("wrote %d: %v", n, err)
	}
	recs := consume(t, r.cluster.ListenAddrs(), pos.KafkaTopic(""), 300)
	seen := map[int32]bool{}
	for _, rec := range recs {
		s, _ := pos.DecodeAvro(rec.Value[5:])
		seen[s.Get("private_seqNum").(int32)] = true
	}
	for _, w := range ledger {
		if !seen[w.SeqNum] {
			t.Fatalf("sample %d lost", w.SeqNum)
		}
	}
	if !strings.Contains(logs.String(), "tel_position DDS read queue is full (20 elements); data may be lost") {
		t.Errorf("no queue-full report; logs:\n%s", logs.String())
	}
	if p.Stats.Failed.Load() != 0 {
		t.Errorf("%d failed", p.Stats.Failed.Load())
	}
}

// TestBrokerTroubleIsRetriedAndReported makes the broker refuse produce
// requests for a while with a retriable error: the producer retries with
// backoff, says so in its log, and loses nothing.
func TestBrokerTroubleIsRetriedAndReported(t *testing.T) {
	r := newRig(t)
	var logs proc.SyncBuffer
	p := r.start(t, Config{Components: []string{"ATDome"},
		Logger:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		KafkaOpts: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)}})
	refused := kfault.RefuseProduce(r.cluster, 5, kerr.NotLeaderForPartition.Code)
	pos := r.ifaces.Topic("ATDome", "position")
	if _, err := mocksal.Run(context.Background(), r.bus, mocksal.WriterConfig{Topic: pos, Count: 20, RateHz: 100}, nil); err != nil {
		t.Fatal(err)
	}
	consume(t, r.cluster.ListenAddrs(), pos.KafkaTopic(""), 20)
	if n := refused(); n < 5 {
		t.Fatalf("only %d produce requests refused", n)
	}
	if p.Stats.Failed.Load() != 0 {
		t.Errorf("%d records failed despite retries", p.Stats.Failed.Load())
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("broker trouble not reported in the log:\n%s", logs.String())
	}
}
