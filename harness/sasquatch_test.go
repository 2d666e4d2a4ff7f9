package harness

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/internal/kafkatest"
)

// TestCoverageVerdictFails: the coverage step fails, naming the
// database, when the stand does not do what the deployment says: a
// consumer of the deployment the stand does not run (its topics never
// reach the EFD coverage names), and a sink the deployment does not have
// (a database coverage says takes nothing holds points).
func TestCoverageVerdictFails(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	base := `version: 1
name: sasquatch
interfaces: ` + abs("../../shared/ts_xml/sal_interfaces") + `
sasquatch:
  chart: ` + abs("../../shared/phalanx/applications/sasquatch") + `
  environments:
    - env: summit
      leave_out: [%SUMMIT%]
    - env: usdfprod
      site: usdf
producers:
  - name: summit-salkafka
    site: summit
    cscs: [Test:1]
`
	cases := []struct {
		name, stand string
		want        []string
	}{
		{"a deployed consumer the stand does not run",
			strings.Replace(base, "%SUMMIT%", "test", 1),
			[]string{"coverage says influxdb@summit/efd ingests it; lost 3 of 3"}},
		{"a sink the deployment does not have",
			strings.Replace(base, "%SUMMIT%", "", 1) + `sinks:
  - name: not-deployed
    site: usdf
    topics: ['summit\.lsst\.sal\.Test\..*']
    database: lsst.obsenv
`,
			[]string{"coverage says influxdb@usdf/lsst.obsenv does not ingest it; it holds 3 of its points"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			stand := filepath.Join(dir, "sasquatch.yaml")
			if err := os.WriteFile(stand, []byte(c.stand), 0o644); err != nil {
				t.Fatal(err)
			}
			// The feature with a shorter wait: what is lost stays lost.
			feature := filepath.Join(dir, "sasquatch.feature")
			text, err := os.ReadFile("../features/sasquatch.feature")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(feature, []byte(strings.Replace(string(text), "within 60 s", "within 15 s", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			var out strings.Builder
			res, err := Run(ctx, RunConfig{Stand: stand, Features: []string{feature}, ReportDir: t.TempDir(), Output: &out})
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed {
				t.Fatalf("the coverage step passed:\n%s", out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not say %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestSasquatchSites: the stand taken from the deployment starts with
// the deployment's topics (partitions and configs of its KafkaTopics)
// and its registry's compatibility level.
func TestSasquatchSites(t *testing.T) {
	st, err := Load("../scenarios/sasquatch.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Up(ctx, st, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Down(context.WithoutCancel(ctx))
	td, err := e.listTopics(ctx, "usdf")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["lsst.square.metrics.events.gafaelfawr"].Partitions); n != 10 {
		t.Errorf("usdf: lsst.square.metrics.events.gafaelfawr has %d partitions, want usdfprod's KafkaTopic's 10", n)
	}
	policy := kafkatest.TopicConfig(t, e.Sites["summit"].Brokers, "registry-schemas", "cleanup.policy")
	if policy != "compact" {
		t.Errorf("summit: registry-schemas cleanup.policy %q, want compact as the summit's KafkaTopic has it", policy)
	}
	resp, err := http.Get(e.Sites["usdf"].ownURL + "/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"NONE"`) {
		t.Errorf("usdf registry config %s, want compatibility NONE as Sasquatch sets it", body)
	}
	// The summit's REST proxy writes the prefixes its KafkaUser's ACLs
	// allow, and no other.
	proxy, err := e.RestURL("summit-rest-proxy")
	if err != nil {
		t.Fatal(err)
	}
	post := func(topic string) int {
		body := strings.NewReader(`{"value_schema": "{\"type\":\"record\",\"name\":\"m\",\"fields\":[{\"name\":\"x\",\"type\":\"double\"}]}", "records": [{"value": {"x": 1.5}}]}`)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxy+"/topics/"+topic, body)
		req.Header.Set("Content-Type", "application/vnd.kafka.avro.v2+json")
		req.Header.Set("Authorization", "Bearer "+stand.RestProxyUser)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// One of the summit's own topics under a prefix the proxy may write,
	// and one under none (auto-creation is off at the summit).
	summit := st.Sasquatch.Environments[0].Deployment
	var allowed, denied string
	for _, tp := range summit.Topics {
		if slices.ContainsFunc(summit.RestPrefixes, func(p string) bool { return strings.HasPrefix(tp.Name, p+".") }) {
			allowed = cmp.Or(allowed, tp.Name)
		} else if tp.Name != "registry-schemas" {
			denied = cmp.Or(denied, tp.Name)
		}
	}
	if allowed == "" || denied == "" {
		t.Fatalf("the summit's topics %v give no topic under the REST proxy's prefixes %v and one outside", summit.Topics, summit.RestPrefixes)
	}
	if code := post(allowed); code != http.StatusOK {
		t.Errorf("POST to %s: %d, want 200", allowed, code)
	}
	if code := post(denied); code != http.StatusForbidden {
		t.Errorf("POST to %s: %d, want 403", denied, code)
	}
}
