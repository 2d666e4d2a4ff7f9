package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/registry"
)

// Schemas whose records decode as each other's, with the same id in two
// registries: read through the wrong one, a record is a plausible point
// of the other measurement.
const (
	scalars = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"x","type":"double"}]}`
	stop = `{"type":"record","name":"logevent_emergencyStop","namespace":"lsst.sal.ATDome","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"level","type":"double"}]}`
	localTopic   = "lsst.sal.ATDome.logevent_emergencyStop"
	replicaTopic = "summit.lsst.sal.Test.scalars"
)

// TestStrict runs the built efdsink against Sasquatch's remote context
// on an embedded cluster: a local registry and a read-only remote one on
// summit.registry-schemas, where the local topic's schema and the
// replicated topic's have the same id, and a real influxd. With a rule
// per registry everything is written; with the replicas' rule on the
// local registry every replicated record is refused and none written;
// --strict then exits 1 after logging the refusal, without it the sink
// counts and goes on.
func TestStrict(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "efdsink")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ib, err := influxd.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	influx, err := influxd.Start(ctx, ib)
	if err != nil {
		t.Fatal(err)
	}
	defer influx.Stop()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, localTopic, replicaTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := func(cfg registry.Config) *registry.Server {
		cfg.Brokers, cfg.Logger = c.ListenAddrs(), quietLog()
		s, err := registry.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	local := start(registry.Config{})
	summit := start(registry.Config{Topic: "summit.registry-schemas"})
	remote := start(registry.Config{Topic: "summit.registry-schemas", ReadOnly: true})
	id := register(t, local, localTopic+"-value", stop)
	if other := register(t, summit, "lsst.sal.Test.scalars-value", scalars); other != id {
		t.Fatalf("ids %d and %d do not collide", id, other)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 5 { // local seqNum 0..4, replicated 100..104, at other times
		produce(t, prod, localTopic, stop, id, map[string]any{"private_efdStamp": 1.7e9 + float64(i), "private_seqNum": int32(i), "level": float64(i)})
		produce(t, prod, replicaTopic, scalars, id, map[string]any{"private_efdStamp": 1.7e9 + 10 + float64(i), "private_seqNum": int32(100 + i), "x": float64(i)})
	}

	refusal := []string{"level=ERROR", "topic=" + replicaTopic, "partition=0", "offset=0", "schema_id=" + fmt.Sprint(id),
		"schema=" + localTopic, "topic_implies=lsst.sal.Test.scalars", "registry=" + local.URL()}
	cases := []struct {
		name     string
		rules    string
		strict   bool
		exit1    bool     // exits 1 by itself; otherwise runs until SIGTERM, then exits 0
		metrics  []string // lines /metrics serves once every record was seen (DB: the database)
		points   int      // in the database, all measurements
		replicas int      // points of replicated records (seqNum >= 100)
		logs     []string // in its output
	}{
		{
			name:   "a registry per rule, strict",
			rules:  fmt.Sprintf("  - {topics: ['summit\\.lsst\\..*'], database: DB, registry: %q}\n  - {topics: ['lsst\\..*'], database: DB}\n", remote.URL()),
			strict: true, metrics: []string{`efdsink_points_written_total{database="DB"} 10`}, points: 10, replicas: 5,
		},
		{
			name: "replicas through the local registry, strict", rules: "  - {topics: ['(?:summit\\.)?lsst\\..*'], database: DB}\n",
			strict: true, exit1: true,
			logs: append(refusal, "efdsink: sink: strict: topic "+replicaTopic+" partition 0 offset 0: schema id"),
		},
		{
			name: "replicas through the local registry", rules: "  - {topics: ['(?:summit\\.)?lsst\\..*'], database: DB}\n",
			metrics: []string{`efdsink_schema_mismatches_total{topic="` + replicaTopic + `"} 5`, `efdsink_points_written_total{database="DB"} 5`},
			points:  5, logs: refusal,
		},
	}
	ic := influx.Client()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := fmt.Sprintf("strict_%d", i)
			rules := filepath.Join(dir, db+".yaml")
			if err := os.WriteFile(rules, []byte("rules:\n"+strings.ReplaceAll(tc.rules, "DB", db)), 0o644); err != nil {
				t.Fatal(err)
			}
			port, err := proc.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
			args := []string{"--brokers", c.ListenAddrs()[0], "--registry", local.URL(), "--influxdb", influx.URL(), "--create-databases",
				"--rules", rules, "--group", db, "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port)}
			if tc.strict {
				args = append(args, "--strict")
			}
			p, err := proc.Start("efdsink", exec.Command(bin, args...))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Kill()
			if tc.exit1 {
				select {
				case <-p.Done():
				case <-time.After(30 * time.Second):
					t.Fatalf("still running 30 s after start\n%s", p.Tail(3000))
				}
				if err := p.Wait(); exitCode(err) != 1 {
					t.Fatalf("exit %v, want 1\n%s", err, p.Tail(3000))
				}
			} else {
				for _, m := range tc.metrics {
					m = strings.ReplaceAll(m, "DB", db)
					waitFor(t, m, func() bool {
						if err := p.Alive(); err != nil {
							t.Fatal(err)
						}
						return strings.Contains(get(metrics), m+"\n")
					})
				}
				if err := p.Stop(10 * time.Second); err != nil {
					t.Fatalf("after SIGTERM: %v\n%s", err, p.Tail(3000))
				}
			}
			for _, l := range tc.logs {
				if !strings.Contains(p.Tail(1<<20), l) {
					t.Errorf("no %q in its output:\n%s", l, p.Tail(3000))
				}
			}
			if n := countPoints(t, ic, db, ""); n != tc.points {
				t.Errorf("%d points, want %d", n, tc.points)
			}
			if n := countPoints(t, ic, db, ` WHERE "private_seqNum" >= 100`); n != tc.replicas {
				t.Errorf("%d points of replicated records, want %d", n, tc.replicas)
			}
		})
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func countPoints(t *testing.T, ic *influxd.Client, db, where string) int {
	t.Helper()
	series, err := ic.Query(context.Background(), db, `SELECT "private_seqNum" FROM /.*/`+where)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range series {
		n += len(s.Values)
	}
	return n
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
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

func produce(t *testing.T, prod *kgo.Client, topic, schema string, id int, rec map[string]any) {
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
