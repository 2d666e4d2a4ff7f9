package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/proc"
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
	bin := buildEfdsink(t, dir)
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
	site := kafkatest.NewRemoteSite(t, 5)
	c, local, remote, id := site.Cluster, site.Local, site.Remote, site.ID

	refusal := []string{"level=ERROR", "topic=" + kafkatest.ReplicaTopic, "partition=0", "offset=0", "schema_id=" + fmt.Sprint(id),
		"schema=" + kafkatest.LocalTopic, "topic_implies=lsst.sal.Test.scalars", "registry=" + local.URL()}
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
			logs: append(refusal, "efdsink: sink: strict: topic "+kafkatest.ReplicaTopic+" partition 0 offset 0: schema id"),
		},
		{
			name: "replicas through the local registry", rules: "  - {topics: ['(?:summit\\.)?lsst\\..*'], database: DB}\n",
			metrics: []string{`efdsink_schema_mismatches_total{topic="` + kafkatest.ReplicaTopic + `"} 5`, `efdsink_points_written_total{database="DB"} 5`},
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

// buildEfdsink builds the command into dir and returns its path.
func buildEfdsink(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "efdsink")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}
