package coverage

import (
	"context"
	"os"
	"path/filepath"
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

func TestPhalanxProbe(t *testing.T) {
	dir, _ := filepath.Abs("../../../shared/phalanx/applications/sasquatch")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	ifaces, err := sal.LoadDir("../../../shared/ts_xml/full/python/lsst/ts/xml/data/sal_interfaces")
	if err != nil {
		t.Fatal(err)
	}
	for _, envs := range [][]string{{"summit", "usdfprod"}, {"usdfdev"}} {
		r := Compute(loadEnvs(t, dir, envs...), Options{Interfaces: ifaces, SALAt: []string{"summit"}})
		t.Logf("%v: %d rows, %d flags %v, errors %d", envs, len(r.Rows), len(r.Flags), r.Counts(), r.Errors())
		seen := map[Kind]int{}
		for _, f := range r.Flags {
			if seen[f.Kind] < 3 {
				t.Logf("  %s %s %s: %s", f.Severity, f.Kind, f.Env, f.Message)
			}
			seen[f.Kind]++
		}
	}
}
