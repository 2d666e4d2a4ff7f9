package coverage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sasquatch"
)

func loadEnvs(t *testing.T, dir string, envs ...string) []*sasquatch.Deployment {
	t.Helper()
	var out []*sasquatch.Deployment
	for _, e := range envs {
		d, err := sasquatch.Load(context.Background(), sasquatch.Chart{Dir: dir, Env: e})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestPhalanxCoverage runs coverage on Phalanx's summit with usdfprod,
// and on usdfdev, with the full ts_xml: the deployments as rendered raise
// no error, and the flags they do raise are the ones their values make
// (a batch size that differs between the sites, an undelivered limit not
// a multiple of the batch, specific topics mirrored to usdfdev that no
// consumer there reads), each SAL topic of a mirrored CSC reaches the
// USDF's EFD through the summit's remote registry.
func TestPhalanxCoverage(t *testing.T) {
	dir, _ := filepath.Abs("../../../shared/phalanx/applications/sasquatch")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Phalanx's Sasquatch chart is not beside the project (../shared/phalanx): %v", err)
	}
	ifaces, err := sal.LoadDir("../../../shared/ts_xml/full/python/lsst/ts/xml/data/sal_interfaces")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		envs []string
		want []string // flags, as "kind env subject"
	}{
		{[]string{"summit", "usdfprod"}, []string{
			"settings-differ usdfprod m1m3ts",
			"undelivered-size summit m1m3",
			"undelivered-size usdfprod m1m3ts",
			"unconsumed summit lsst.s3.raw.latiss",
		}},
		{[]string{"usdfdev"}, []string{
			`mirrored-unread usdfdev lsst.sal.ScriptQueue.logevent_nextVisit`,
			"unconsumed usdfdev lsst.tap.job-run",
		}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.envs, "+"), func(t *testing.T) {
			r := Compute(loadEnvs(t, dir, c.envs...), Options{Interfaces: ifaces, SALAt: []string{"summit"}})
			if r.Errors() != 0 {
				t.Errorf("%d error flags on the deployment as rendered: %v", r.Errors(), keys(r))
			}
			var got []string
			for _, f := range r.Flags {
				got = append(got, fmt.Sprintf("%s %s %s", f.Kind, f.Env, f.Subject))
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("no flag %q among %d", w, len(got))
				}
			}
			found := !slices.Contains(c.envs, "usdfprod")
			for _, row := range r.Rows {
				if row.Env != "usdfprod" || row.Base != "lsst.sal.MTM1M3.forceActuatorData" {
					continue
				}
				found = true
				if len(row.Ingests) != 1 || row.Ingests[0].Consumer != "m1m3" || row.Ingests[0].RegistryServes != "summit" || row.Ingests[0].Databases[0] != "efd" {
					t.Errorf("usdfprod %s: ingested %+v, want by m1m3 into efd through the summit's remote registry", row.Topic, row.Ingests)
				}
			}
			if !found {
				t.Error("usdfprod has no row for lsst.sal.MTM1M3.forceActuatorData")
			}
		})
	}
}
