package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
)

var registryLine = regexp.MustCompile(`registry  (http://\S+)`)

// twoWayRegistries are the registries the two-way stand prints: each
// site's own and its remote one for the other site.
const twoWayRegistries = 4

// waitUp waits for the endpoints to be printed and checks that every
// registry of the stand (want of them) answers at the printed URL while
// the stand is up.
func waitUp(t *testing.T, out *proc.SyncBuffer, done <-chan error, want int) {
	t.Helper()
	var urls [][]string
	var returned error
	listed := wait.ForCondition("the endpoints with every registry", func(context.Context) error {
		if urls = registryLine.FindAllStringSubmatch(out.String(), -1); !strings.Contains(out.String(), "site usdf") || len(urls) < want {
			return fmt.Errorf("%d registries printed", len(urls))
		}
		return nil
	}).WithTimeout(60 * time.Second).WithAlive(func() error {
		select {
		case err := <-done:
			returned = fmt.Errorf("returned before printing endpoints: %v", err)
		default:
		}
		return returned
	})
	if err := listed.WaitUntilReady(context.Background()); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(urls) != want {
		t.Fatalf("want %d registries in:\n%s", want, out.String())
	}
	for _, u := range urls {
		resp, err := http.Get(u[1] + "/subjects")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("registry %s does not answer while the stand is up: %v", u[1], err)
		}
		resp.Body.Close()
	}
}

func TestHoldPrintsEndpointsAndTearsDown(t *testing.T) {
	var out proc.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Hold(ctx, HoldConfig{Stand: "../scenarios/two-way.yaml", Output: &out}) }()
	waitUp(t, &out, done, twoWayRegistries)
	for _, want := range []string{"kafka     127.0.0.1:", "dds domain 5", "replication summit->usdf", "heartbeats usdf->summit"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("endpoints lack %q:\n%s", want, out.String())
		}
	}
	url := registryLine.FindStringSubmatch(out.String())[1]
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url + "/subjects"); err == nil {
		t.Error("the registry still answers after Hold returned")
	}
}

func TestRunKeepUp(t *testing.T) {
	feature := filepath.Join(t.TempDir(), "one.feature")
	if err := os.WriteFile(feature, []byte("Feature: one\n  Scenario: up\n    Then topic \"heartbeats\" exists at \"usdf\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out proc.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		res, err := Run(ctx, RunConfig{Stand: "../scenarios/two-way.yaml", Features: []string{feature}, ReportDir: dir, Output: &out, KeepUp: true})
		if err == nil && !res.Passed {
			err = errorString("suite failed:\n" + Summary(res))
		}
		done <- err
	}()
	waitUp(t, &out, done, twoWayRegistries)
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Errorf("the report is not written before the stand is held: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestSiteKafkaOptions: a site's producers create topics with the site's
// partitions and topic configs unless they say otherwise, and replication
// copies the configs to the replicas; what the site cannot take is refused
// at load.
func TestSiteKafkaOptions(t *testing.T) {
	yaml := `version: 1
sites:
  summit:
    kafka: {brokers: 1, partitions: 3, topic_configs: {retention.ms: "3600000"}}
    registry: {}
  usdf:
    kafka: {brokers: 1}
producers:
  - {name: p, site: summit, cscs: [ATDome]}
  - {name: q, site: summit, cscs: [Test:1], partitions: 2, run: binary}
replication:
  - {source: summit, target: usdf, topics: ['lsst\.sal\..*']}
`
	env := upStand(t, yaml)
	ctx := context.Background()
	client := func(site string) *kadm.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(env.Sites[site].Brokers...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return kadm.NewClient(cl)
	}
	summit, usdf := client("summit"), client("usdf")
	td, err := summit.ListTopics(ctx, "lsst.sal.ATDome.position", "lsst.sal.Test.scalars")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["lsst.sal.ATDome.position"].Partitions); n != 3 {
		t.Errorf("ATDome telemetry topic has %d partitions, want the site's 3", n)
	}
	if n := len(td["lsst.sal.Test.scalars"].Partitions); n != 2 {
		t.Errorf("Test telemetry topic has %d partitions, want its producer's 2", n)
	}
	retention := func(adm *kadm.Client, topic string) string {
		rc, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil || len(rc) == 0 || rc[0].Err != nil {
			t.Fatalf("describe %s: %v %v", topic, err, rc)
		}
		for _, c := range rc[0].Configs {
			if c.Key == "retention.ms" && c.Value != nil {
				return *c.Value
			}
		}
		return ""
	}
	for _, topic := range []string{"lsst.sal.ATDome.position", "lsst.sal.Test.scalars"} {
		if got := retention(summit, topic); got != "3600000" {
			t.Errorf("%s: retention.ms %q at the summit, want the site's 3600000 (in-process and binary producers alike)", topic, got)
		}
	}
	// The flow finds the topics at its next discovery (every 500 ms).
	copied := wait.ForCondition("the replica's retention.ms copied from the summit", func(ctx context.Context) error {
		td, err := usdf.ListTopics(ctx, "summit.lsst.sal.ATDome.position")
		if err != nil {
			return err
		}
		if !td.Has("summit.lsst.sal.ATDome.position") || td["summit.lsst.sal.ATDome.position"].Err != nil {
			return errors.New("no replica yet")
		}
		if got := retention(usdf, "summit.lsst.sal.ATDome.position"); got != "3600000" {
			return fmt.Errorf("%q, want 3600000", got)
		}
		return nil
	}).WithTimeout(10 * time.Second)
	if err := copied.WaitUntilReady(ctx); err != nil {
		t.Error(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"partitions: 3, topic", "partitions: 3, replication_factor: 3, topic", `site "summit": kafka replication_factor 3 exceeds its 1 brokers`},
		{`retention.ms: "3600000"`, `flush.ms: "1"`, `site "summit": kafka topic_configs: "flush.ms": the embedded Kafka takes`},
	} {
		bad := strings.Replace(yaml, c.from, c.to, 1)
		if _, err := Parse("s.yaml", []byte(bad), LoadOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// TestBackgroundTraffic: a stand's traffic writes for as long as it is up,
// and the producers forward it.
func TestBackgroundTraffic(t *testing.T) {
	yaml := `version: 1
sites:
  summit:
    kafka: {brokers: 1}
    registry: {}
producers:
  - {name: p, site: summit, cscs: [MTM1M3]}
traffic:
  - {profile: ` + filepath.Join("..", "scenarios", "profiles", "nominal-summit.yaml") + `, domain: 0, scale: 2}
`
	env := upStand(t, yaml)
	time.Sleep(time.Second)
	stats := env.Stats()
	written := stats["traffic ../scenarios/profiles/nominal-summit.yaml@0"]["written"]
	// MTM1M3's two telemetry topics at 50 Hz, doubled: about 200 a second.
	if written < 120 || written > 300 {
		t.Errorf("background traffic wrote %d samples in 1 s, want about 200 (%v)", written, stats)
	}
	if read := stats["p"]["read"]; read < written/2 {
		t.Errorf("the producer read %d of %d background samples", read, written)
	}
}

// upStand brings a stand written inline up for the rest of the test.
func upStand(t *testing.T, yaml string) *Env {
	t.Helper()
	st, err := Parse(filepath.Join(t.TempDir(), "s.yaml"), []byte(yaml), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := Up(context.Background(), st, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Down(context.Background()) })
	return env
}
