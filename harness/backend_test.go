package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/internal/fakebackend"
	"github.com/lsst-ts/teststand/harness/stand"
)

const fakeName = fakebackend.Name

// TestRegisteredBackend runs the delivery feature on a backend registered
// under a new name by a package of its own (fakebackend), the harness
// unchanged: the stand file's backend is accepted, Up asks that
// backend for each site's Kafka, registries and InfluxDB, the scenarios
// pass on what it started, and Down closes it.
func TestRegisteredBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{
		Stand: "../scenarios/summit-usdf.yaml", Features: []string{"../features/delivery.feature"},
		Backend: string(fakeName), ReportDir: t.TempDir(), Output: testOutput(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || len(res.Results.Scenarios) != 2 {
		t.Fatalf("want the delivery feature's 2 scenarios passed on backend %s:\n%s", fakeName, Summary(res))
	}
	st, err := Load("../scenarios/summit-usdf.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var regs, influxes int32
	for _, s := range st.Sites {
		if s.Registry != nil {
			regs++
		}
		regs += int32(len(s.RemoteRegistries))
		if s.InfluxDB != nil {
			influxes++
		}
	}
	if k, r, i, c := fakebackend.Calls.Kafka.Load(), fakebackend.Calls.Registries.Load(), fakebackend.Calls.InfluxDB.Load(), fakebackend.Calls.Closed.Load(); k != 1 || r != regs || i != influxes || c != 1 {
		t.Errorf("backend %s: asked for Kafka %d times, registries %d, InfluxDB %d, closed %d; want 1, %d, %d, 1 (the stand's)", fakeName, k, r, i, c, regs, influxes)
	}
	if v := res.Results.Versions["kafka"]; v != "kfake (franz-go)" {
		t.Errorf("versions: kafka %q, want the fake backend's kfake", v)
	}
}

// TestBackendCapabilities: a step needing what a stand's backend has not
// fails naming the backends that have it.
func TestBackendCapabilities(t *testing.T) {
	cases := []struct {
		backend stand.Backend
		check   func(*Env) error
		want    string // "" for none
	}{
		{Process, func(e *Env) error { _, err := capability[backend.CommitFaulter](e, "commit faults"); return err }, "commit faults need the embedded or fake backend (this stand: process)"},
		{fakeName, func(e *Env) error { _, err := capability[backend.CommitFaulter](e, "commit faults"); return err }, ""},
		{Embedded, func(e *Env) error { _, err := capability[backend.ContainerActor](e, "container actions"); return err }, "container actions need the containers backend (this stand: embedded)"},
		{Containers, func(e *Env) error { _, err := capability[backend.ContainerActor](e, "container actions"); return err }, ""},
	}
	for _, c := range cases {
		t.Run(string(c.backend), func(t *testing.T) {
			e := &Env{Stand: &Stand{Backend: c.backend}}
			var err error
			if e.backend, err = newBackend(e, UpOptions{}); err != nil {
				t.Fatal(err)
			}
			err = c.check(e)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("got %v, want none", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := newBackend(&Env{Stand: &Stand{File: "x.yaml", Backend: "nonesuch"}}, UpOptions{}); err == nil || !strings.Contains(err.Error(), `no backend "nonesuch"`) {
		t.Errorf("unregistered backend: got %v", err)
	}
}
