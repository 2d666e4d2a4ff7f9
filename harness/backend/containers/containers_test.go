//go:build containers

package containers

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/internal/proc"
)

// local are the images `make containers-images` builds.
var local = map[string]string{Kafka: "teststand/kafka:4.1.1", Registry: "teststand/components:dev", InfluxDB: "teststand/influxdb:1.8.10"}

// TestSite brings one site up in containers from the local images: the
// harness reaches Kafka on its host listener (a topic created there is
// listed), the registry (on Kafka's in-network listener) and InfluxDB
// answer on their mapped ports, a paused Kafka stops answering and
// answers again once unpaused, and terminating leaves nothing running.
func TestSite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	images := Images(local, "")
	if err := CheckImages(ctx, images[Kafka], images[Registry], images[InfluxDB]); err != nil {
		t.Fatal(err)
	}
	s, err := NewStand(ctx, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Terminate(context.WithoutCancel(ctx))
	k, err := s.StartKafka(ctx, "usdf", images[Kafka], false)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "lsst.sal.Test.scalars"); err != nil {
		t.Fatal(err)
	}
	_, regURL, err := s.StartRegistry(ctx, "usdf-registry", images[Registry], k, "registry-schemas", false, "/usr/local/bin/registry")
	if err != nil {
		t.Fatal(err)
	}
	if body := get(t, regURL+"/subjects"); strings.TrimSpace(body) != "[]" {
		t.Fatalf("registry /subjects: %q", body)
	}
	_, influxURL, err := s.StartInfluxDB(ctx, "usdf-influxdb", images[InfluxDB])
	if err != nil {
		t.Fatal(err)
	}
	get(t, influxURL+"/ping")
	topics, err := adm.ListTopics(ctx)
	if err != nil || !topics.Has("registry-schemas") || !topics.Has("lsst.sal.Test.scalars") {
		t.Fatalf("topics %v, %v: want the registry's storage topic and the created one", topics.Names(), err)
	}
	if err := k.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	// A new client: one that asked recently may answer from its cache.
	fresh, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	if _, err := kadm.NewClient(fresh).ListTopics(pctx); err == nil {
		t.Error("a paused Kafka answered")
	}
	pcancel()
	fresh.Close()
	if err := k.Unpause(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.ListTopics(ctx); err != nil {
		t.Fatalf("after unpause: %v", err)
	}
	if !strings.Contains(k.Logs(), "Kafka Server started") {
		t.Errorf("Kafka's output was not kept: %q", proc.Tail(k.Logs(), 300))
	}
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Containers() {
		if c.C.IsRunning() {
			t.Errorf("%s still running", c.Name)
		}
	}
}

func TestImages(t *testing.T) {
	t.Setenv("TESTSTAND_IMAGE_KAFKA", "")
	t.Setenv("TESTSTAND_IMAGE_PREFIX", "")
	cases := []struct {
		name      string
		overrides map[string]string
		prefix    string
		env       map[string]string
		want      map[string]string
	}{
		{"upstream", nil, "", nil, Upstream},
		{"override", map[string]string{Kafka: "teststand/kafka:4.1.1"}, "", nil, map[string]string{Kafka: "teststand/kafka:4.1.1", InfluxDB: "influxdb:1.8.10"}},
		{"env", nil, "", map[string]string{"TESTSTAND_IMAGE_KAFKA": "k:1"}, map[string]string{Kafka: "k:1"}},
		{"mirror prefix", nil, "mirror.example.org/hub", nil, map[string]string{Kafka: "mirror.example.org/hub/apache/kafka:4.1.1", InfluxDB: "mirror.example.org/hub/influxdb:1.8.10"}},
		{"prefix keeps a registry of its own", map[string]string{Kafka: "ghcr.io/x/kafka:1"}, "mirror.example.org", nil, map[string]string{Kafka: "ghcr.io/x/kafka:1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			got := Images(c.overrides, c.prefix)
			for svc, want := range c.want {
				if got[svc] != want {
					t.Errorf("%s: %q, want %q", svc, got[svc], want)
				}
			}
		})
	}
}

// TestMissingImage: an image that is not present and cannot be pulled is
// one error naming it and how to provide it.
func TestMissingImage(t *testing.T) {
	ctx := context.Background()
	if err := Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	err := CheckImages(ctx, "teststand/nothing-here:0")
	if err == nil || !strings.Contains(err.Error(), "teststand/nothing-here:0") || !strings.Contains(err.Error(), "make containers-images") {
		t.Fatalf("error %v", err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestRunComponent runs one of the project's binaries from the components
// image built from the root Dockerfile: it runs to its end, its output is
// kept, and a long-running one is killed at once.
func TestRunComponent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := NewStand(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Terminate(context.WithoutCancel(ctx))
	p, err := s.RunComponent(ctx, "stand steps", "../../..", "stand", []string{"steps"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("stand steps did not end")
	}
	if !strings.Contains(p.Tail(1<<20), "^the stand is up$") {
		t.Fatalf("output %q", p.Tail(500))
	}
	if err := p.Alive(); err == nil {
		t.Error("an ended container is alive")
	}
	r, err := s.RunComponent(ctx, "registry", "../../..", "registry", []string{"--brokers", "127.0.0.1:1", "--listen", "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Alive(); err != nil {
		t.Fatalf("registry waiting for Kafka: %v", err)
	}
	start := time.Now()
	r.Kill()
	if err := r.Alive(); err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("killed after %s, alive: %v", time.Since(start), err)
	}
}
