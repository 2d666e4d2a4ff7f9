package sasquatch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// phalanx is Phalanx's Sasquatch application in ../shared, which tests
// read and the project never copies.
func phalanx(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../shared/phalanx/applications/sasquatch")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		t.Fatalf("Phalanx's Sasquatch chart is not beside the project (../shared/phalanx): %v", err)
	}
	return dir
}

// TestEveryPhalanxEnvironmentLoads renders every environment of
// Phalanx's Sasquatch and reads it.
func TestEveryPhalanxEnvironmentLoads(t *testing.T) {
	dir := phalanx(t)
	files, err := filepath.Glob(filepath.Join(dir, "values-*.yaml"))
	if err != nil || len(files) < 10 {
		t.Fatalf("values files: %v %v", files, err)
	}
	for _, f := range files {
		env := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "values-"), ".yaml")
		t.Run(env, func(t *testing.T) {
			d, err := Load(context.Background(), Chart{Dir: dir, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			if env == "usdfprod-prompt-processing" && !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "min.insync.replicas set twice") }) {
				t.Errorf("warnings %v: want min.insync.replicas set twice", d.Warnings)
			}
			t.Logf("%s: kafka %v, %d topics, %d users, %d registries, %d consumers, %d mirrors", env, d.Kafka != nil, len(d.Topics), len(d.Users), len(d.Registries), len(d.Consumers), len(d.Mirrors))
		})
	}
}

// TestSummitAndUSDF checks what the summit and usdfprod renders say about
// the remote context: the USDF mirrors the summit under "summit.", its
// remote registry serves summit.registry-schemas, and a consumer of
// replicated SAL topics decodes with it.
func TestSummitAndUSDF(t *testing.T) {
	dir := phalanx(t)
	summit, err := Load(context.Background(), Chart{Dir: dir, Env: "summit"})
	if err != nil {
		t.Fatal(err)
	}
	usdf, err := Load(context.Background(), Chart{Dir: dir, Env: "usdfprod"})
	if err != nil {
		t.Fatal(err)
	}
	if summit.Kafka.AutoCreateTopics() || summit.Kafka.TimestampType() != "LogAppendTime" {
		t.Errorf("summit broker config %v", summit.Kafka.Config)
	}
	if len(usdf.Mirrors) != 1 || usdf.Mirrors[0].Source != "summit" || usdf.Mirrors[0].Flow.RemoteTopic("lsst.sal.MTM1M3.x") != "summit.lsst.sal.MTM1M3.x" {
		t.Fatalf("usdfprod mirrors %+v", usdf.Mirrors)
	}
	m1m3 := usdf.Consumer("m1m3")
	if m1m3 == nil || !m1m3.Matches("summit.lsst.sal.MTM1M3.forceActuatorData") || m1m3.Matches("summit.lsst.sal.MTM1M3TS.thermalData") {
		t.Fatalf("usdfprod m1m3 consumer %+v", m1m3)
	}
	if r := usdf.RegistryFor(m1m3.Registry); r == nil || r.Remote() != "summit" {
		t.Errorf("usdfprod m1m3 decodes with %+v (%s), want the remote registry of summit", r, m1m3.Registry)
	}
	if c := summit.Consumer("m1m3"); c == nil || summit.RegistryFor(c.Registry) == nil || summit.RegistryFor(c.Registry).Remote() != "" {
		t.Errorf("summit m1m3 consumer %+v: want the local registry", c)
	}
}
