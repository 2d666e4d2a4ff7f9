package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/proc"
)

// TestRegistryPerRule: a local topic and a replicated one whose schemas
// have the same id, each in its own registry. With a rule per registry,
// each topic is decoded with its own schema (so the schema caches are
// per registry too); read through the wrong registry, every record is
// refused, counted and logged, and no point of it is written, neither in
// the measurement of the schema it decoded with nor in its own.
func TestRegistryPerRule(t *testing.T) {
	r := kafkatest.NewRemoteSite(t, 5)
	local, remote := r.Local.URL(), r.Remote.URL()
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
			points:     map[string]int{kafkatest.LocalTopic: 5, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{kafkatest.LocalTopic: 0, "lsst.sal.Test.scalars": 5},
		},
		{
			name:       "every rule its own registry, none for the sink",
			rules:      []Rule{{Topics: []string{`summit\.lsst\..*`}, Registry: remote + "/"}, {Topics: []string{`lsst\..*`}, Registry: local}},
			points:     map[string]int{kafkatest.LocalTopic: 5, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{kafkatest.LocalTopic: 0, "lsst.sal.Test.scalars": 5},
		},
		{
			name: "the replicas through the local registry", registry: local,
			rules:      []Rule{{Topics: []string{`(?:summit\.)?lsst\..*`}}},
			points:     map[string]int{kafkatest.LocalTopic: 5, "lsst.sal.Test.scalars": 0},
			replicated: map[string]int{kafkatest.LocalTopic: 0},
			mismatched: map[string]int{kafkatest.ReplicaTopic: 5},
		},
		{
			name: "the local topic through the remote registry", registry: local,
			rules:      []Rule{{Topics: []string{`(?:summit\.)?lsst\..*`}, Registry: remote}},
			points:     map[string]int{kafkatest.LocalTopic: 0, "lsst.sal.Test.scalars": 5},
			replicated: map[string]int{"lsst.sal.Test.scalars": 5},
			mismatched: map[string]int{kafkatest.LocalTopic: 5},
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
				Brokers: r.Cluster.ListenAddrs(), RegistryURL: c.registry, InfluxURL: influx.URL(), Rules: c.rules,
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
			checkRefusalLogs(t, logs.String(), c.mismatched, r.ID, c.registry)
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
		wantSchema, wantImplied := kafkatest.LocalTopic, "lsst.sal.Test.scalars"
		if l.Topic == kafkatest.LocalTopic {
			wantSchema, wantImplied = "lsst.sal.Test.scalars", kafkatest.LocalTopic
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
	r := kafkatest.NewRemoteSite(t, 5)
	const db = "remote_strict"
	cfg := Config{
		Brokers: r.Cluster.ListenAddrs(), RegistryURL: r.Local.URL(), InfluxURL: influx.URL(),
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
		want := MismatchError{Topic: kafkatest.ReplicaTopic, Partition: 0, Offset: 0, Registry: r.Local.URL(), SchemaID: r.ID,
			Schema: kafkatest.LocalTopic, Implied: "lsst.sal.Test.scalars"}
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
