package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExternalBackend holds a stand up, then replays the delivery feature
// through scenarios/tts.yaml, which points at that stand's endpoints: the
// replaying stand starts only its producers, and the held stand's
// replicator and sink deliver. The EFD is InfluxDB 1.x, then 2.x (the
// replaying stand then reaches it with the held stand's org and token).
func TestExternalBackend(t *testing.T) {
	tts, err := filepath.Abs("../scenarios/tts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, held string
		// overlay, if any, is a stand extending tts.yaml that is replayed
		// instead of it.
		overlay string
	}{
		{"influxdb1", "../scenarios/summit-usdf.yaml", ""},
		{"influxdb2", "../scenarios/influxdb2.yaml", "version: 1\nextends: " + tts + "\nsites:\n  usdf:\n    influxdb: {version: 2, databases: [], buckets: [efd], org: \"${USDF_INFLUXDB_ORG}\", token: \"${INFLUXDB_TOKEN}\"}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			held, err := Load(c.held, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			env, err := Up(ctx, held, UpOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Down(context.WithoutCancel(ctx))
			summit, usdf := env.Sites["summit"], env.Sites["usdf"]
			t.Setenv("SUMMIT_KAFKA", strings.Join(summit.Brokers, ","))
			t.Setenv("SUMMIT_REGISTRY", summit.RegistryURL)
			t.Setenv("USDF_KAFKA", strings.Join(usdf.Brokers, ","))
			t.Setenv("USDF_REGISTRY", usdf.RegistryURL)
			t.Setenv("USDF_INFLUXDB", usdf.InfluxURL)
			t.Setenv("USDF_INFLUXDB_ORG", usdf.InfluxOrg)
			t.Setenv("INFLUXDB_TOKEN", usdf.InfluxToken)
			replay := tts
			if c.overlay != "" {
				replay = filepath.Join(t.TempDir(), "tts.yaml")
				if err := os.WriteFile(replay, []byte(c.overlay), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			points := func() float64 {
				fams, err := env.Metrics(ctx, "usdf-efd")
				if err != nil {
					t.Fatal(err)
				}
				return sumValues(fams, "efdsink_points_written_total", nil)
			}
			pointsBefore := points()
			res, err := Run(ctx, RunConfig{
				Stand: replay, Features: []string{"../features/delivery.feature"},
				ReportDir: t.TempDir(), Output: testOutput(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Passed {
				t.Fatalf("delivery on the external backend failed:\n%s", Summary(res))
			}
			if res.Results.Versions["kafka"] != "external" {
				t.Errorf("versions %v, want the external backend named", res.Results.Versions)
			}
			// The held stand's own sink wrote the replayed samples.
			if after := points(); after < pointsBefore+50 {
				t.Errorf("the held stand's sink wrote %.0f points before and %.0f after: the replay did not go through it", pointsBefore, after)
			}
		})
	}
}

func TestExternalStandErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"version: 1\nbackend: external\nsites:\n  a:\n    kafka: {brokers: 1}\n", `site "a": the external backend needs kafka.bootstrap`},
		{"version: 1\nbackend: external\nsites:\n  a:\n    kafka: {bootstrap: 'x:1'}\n    registry: {}\n", `site "a": the external backend needs registry.url`},
		{"version: 1\nsites:\n  a:\n    kafka: {bootstrap: 'x:1'}\n", `kafka.bootstrap is for the external backend`},
		{"version: 1\nsites:\n  a: {registry: {}}\n  b: {}\nreplication:\n  - {source: a, target: b, run: external}\n", "only a stand on the external backend"},
	}
	for _, c := range cases {
		if _, err := Parse("s.yaml", []byte(c.yaml), LoadOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
