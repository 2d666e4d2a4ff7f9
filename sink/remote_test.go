package sink

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/registry"
)

// Two schemas whose records decode as each other's: a record read with
// the other's schema is a plausible point, not an error.
const (
	scalarsSchema = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"x","type":"double"}]}`
	stopSchema = `{"type":"record","name":"logevent_emergencyStop","namespace":"lsst.sal.ATDome","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"level","type":"double"}]}`
	localTopic   = "lsst.sal.ATDome.logevent_emergencyStop"
	replicaTopic = "summit.lsst.sal.Test.scalars"
)

// remoteRig is a site of Sasquatch's remote context on one cluster: the
// local registry (registry-schemas) and a read-only remote registry on
// summit.registry-schemas (written here by the summit's registry, as
// replication would), with ids that collide: the local topic's schema
// and the replicated topic's have the same id, each in its registry.
type remoteRig struct {
	cluster       *kfake.Cluster
	local, remote *registry.Server
	id            int // of both schemas
}

func newRemoteRig(t *testing.T) *remoteRig {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, localTopic, replicaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()
	start := func(cfg registry.Config) *registry.Server {
		cfg.Brokers, cfg.Logger = c.ListenAddrs(), quiet()
		s, err := registry.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	r := &remoteRig{cluster: c, local: start(registry.Config{})}
	summit := start(registry.Config{Topic: "summit.registry-schemas"})
	r.remote = start(registry.Config{Topic: "summit.registry-schemas", ReadOnly: true})
	idStop := register(t, r.local, localTopic+"-value", stopSchema)
	idScalars := register(t, summit, "lsst.sal.Test.scalars-value", scalarsSchema)
	if idStop != idScalars {
		t.Fatalf("ids %d and %d do not collide", idStop, idScalars)
	}
	r.id = idStop
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	// Local records are seqNum 0..4, replicated ones 100..104, at other
	// times (points of one series at one time would merge).
	for i := range 5 {
		produceAvro(t, prod, localTopic, stopSchema, r.id, map[string]any{"private_efdStamp": 1.7e9 + float64(i), "private_seqNum": int32(i), "level": float64(i)})
		produceAvro(t, prod, replicaTopic, scalarsSchema, r.id, map[string]any{"private_efdStamp": 1.7e9 + 10 + float64(i), "private_seqNum": int32(100 + i), "x": float64(i) / 2})
	}
	return r
}

func register(t *testing.T, reg *registry.Server, subject, schema string) int {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.CreateSchema(context.Background(), subject, sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return ss.ID
}

func produceAvro(t *testing.T, prod *kgo.Client, topic, schema string, id int, rec map[string]any) {
	t.Helper()
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	if v, err = codec.BinaryFromNative(v, rec); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryPerRule: a local topic and a replicated one whose schemas
// have the same id, each in its own registry. With a rule per registry,
// each topic is decoded with its own schema (so the schema caches are
// per registry too); read through the wrong registry, every record is
// refused, counted and logged, and no point of it is written, neither in
// the measurement of the schema it decoded with nor in its own.
func TestRegistryPerRule(t *testing.T) {
	r := newRemoteRig(t)
	local, remote := r.local.URL(), r.remote.URL()
	cases := []struct {
		name     string
		registry string // Config.RegistryURL
		rules    []Rule
		// points per measurement, and how many of them are replicated
		// records (seqNum >= 100)
		points, replicated map[string]int
		mismatched         map[string]int // per topic
	}{
		{
			name: "a registry per rule", registry: local,
			rules:      []Rule{{Topics: []string{`summit\.lsst\..*`}, Registry: remote}, {Topics: []string{`lsst\..*`}}},
			points:     map[string]int{localTopic: 5, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{localTopic: 0, "lsst.sal.Test.scalars": 5},
		},
		{
			name:       "every rule its own registry, none for the sink",
			rules:      []Rule{{Topics: []string{`summit\.lsst\..*`}, Registry: remote + "/"}, {Topics: []string{`lsst\..*`}, Registry: local}},
			points:     map[string]int{localTopic: 5, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{localTopic: 0, "lsst.sal.Test.scalars": 5},
		},
		{
			name: "the replicas through the local registry", registry: local,
			rules:      []Rule{{Topics: []string{`(?:summit\.)?lsst\..*`}}},
			points:     map[string]int{localTopic: 5, "lsst.sal.Test.scalars": 0},
			replicated: map[string]int{localTopic: 0},
			mismatched: map[string]int{replicaTopic: 5},
		},
		{
			name: "the local topic through the remote registry", registry: local,
			rules:      []Rule{{Topics: []string{`(?:summit\.)?lsst\..*`}, Registry: remote}},
			points:     map[string]int{localTopic: 0, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{"lsst.sal.Test.scalars": 5},
			mismatched: map[string]int{localTopic: 5},
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := fmt.Sprintf("remote_%d", i)
			for j := range c.rules {
				c.rules[j].Database = db
			}
			var logs proc.SyncBuffer
			s, stop := runSink(t, Config{
				Brokers: r.cluster.ListenAddrs(), RegistryURL: c.registry, InfluxURL: influx.URL(), Rules: c.rules,
				GroupID: db, CreateDatabases: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			defer stop()
			waitFor(t, "all 10 records written or refused", func() bool { return s.Stats.Points.Load()+s.Stats.Mismatched.Load() >= 10 })
			wantMismatched := 0
			for topic, n := range c.mismatched {
				wantMismatched += n
				if got := counter(t, s.Metrics(), "efdsink_schema_mismatches_total", topic); got != float64(n) {
					t.Errorf("efdsink_schema_mismatches_total{topic=%q} = %v, want %d", topic, got, n)
				}
			}
			if got := s.Stats.Mismatched.Load(); got != int64(wantMismatched) {
				t.Errorf("Mismatched %d, want %d (points %d)", got, wantMismatched, s.Stats.Points.Load())
			}
			if got := s.Stats.DecodeErrors.Load(); got != 0 {
				t.Errorf("DecodeErrors %d, want 0: the records decode with either schema", got)
			}
			for m, n := range c.points {
				if got := count(t, db, fmt.Sprintf(`SELECT "private_seqNum" FROM %q`, m)); got != n {
					t.Errorf("%d points in %s, want %d", got, m, n)
				}
			}
			for m, n := range c.replicated {
				if got := count(t, db, fmt.Sprintf(`SELECT "private_seqNum" FROM %q WHERE "private_seqNum" >= 100`, m)); got != n {
					t.Errorf("%d replicated records' points in %s, want %d", got, m, n)
				}
			}
			checkRefusalLogs(t, logs.String(), c.mismatched, r.id, c.registry)
		})
	}
}

// checkRefusalLogs: one error line per refused record, with its topic,
// partition, offset, schema id, the schema's name and the topic's.
func checkRefusalLogs(t *testing.T, logs string, mismatched map[string]int, id int, reg string) {
	t.Helper()
	got := map[string][]int64{}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l struct {
			Level, Msg, Topic, Schema, Registry string
			Implies                             string `json:"topic_implies"`
			Partition                           *int32
			Offset                              *int64
			SchemaID                            int `json:"schema_id"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || !strings.Contains(l.Msg, "refused") {
			continue
		}
		wantSchema, wantImplied := localTopic, "lsst.sal.Test.scalars"
		if l.Topic == localTopic {
			wantSchema, wantImplied = "lsst.sal.Test.scalars", localTopic
		}
		if l.Level != "ERROR" || l.Partition == nil || l.Offset == nil || l.SchemaID != id || l.Schema != wantSchema || l.Implies != wantImplied || l.Registry == "" {
			t.Errorf("refusal logged without what it was: %s", line)
			continue
		}
		got[l.Topic] = append(got[l.Topic], *l.Offset)
	}
	for topic, n := range mismatched {
		if len(got[topic]) != n {
			t.Errorf("%d refusals logged for %s (offsets %v), want %d", len(got[topic]), topic, got[topic], n)
		}
	}
	if len(mismatched) == 0 && len(got) > 0 {
		t.Errorf("refusals logged: %v", got)
	}
}

// TestStrictStopsAtAMismatch: a strict sink returns the refusal's
// *MismatchError and writes nothing of the poll it was in; it is also
// what it answers started again (the offset was not committed).
func TestStrictStopsAtAMismatch(t *testing.T) {
	r := newRemoteRig(t)
	const db = "remote_strict"
	cfg := Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.local.URL(), InfluxURL: influx.URL(),
		Rules: []Rule{{Topics: []string{`(?:summit\.)?lsst\..*`}, Database: db}}, GroupID: db, CreateDatabases: true, Strict: true, Logger: quiet(),
	}
	for run := range 2 {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = s.Run(ctx)
		cancel()
		var me *MismatchError
		if !errors.As(err, &me) {
			t.Fatalf("run %d: Run returned %v, want a *MismatchError", run+1, err)
		}
		want := MismatchError{Topic: replicaTopic, Partition: 0, Offset: 0, Registry: r.local.URL(), SchemaID: r.id,
			Schema: localTopic, Implied: "lsst.sal.Test.scalars"}
		if *me != want {
			t.Errorf("run %d: %+v, want %+v", run+1, *me, want)
		}
		if s.Stats.Mismatched.Load() != 1 {
			t.Errorf("run %d: Mismatched %d, want 1", run+1, s.Stats.Mismatched.Load())
		}
	}
	if n := count(t, db, `SELECT "private_seqNum" FROM /.*/ WHERE "private_seqNum" >= 100`); n != 0 {
		t.Errorf("%d replicated records written", n)
	}
}

// counter is the value of a counter with label topic, as /metrics serves it.
func counter(t *testing.T, m *Metrics, name, topic string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "topic" && l.GetValue() == topic {
					return mt.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
