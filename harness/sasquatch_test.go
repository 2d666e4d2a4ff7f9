package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
