package harness

import (
	"slices"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/mocksal"
)

// TestProfileSpecsSpreadIndices: the whole summit's writers of one topic
// at several indices tick apart, spread evenly over the period or 100 ms
// (the shorter), so no two of them stamp the same microsecond (the EFD
// would keep one point), and no rare event's writer waits long.
func TestProfileSpecsSpreadIndices(t *testing.T) {
	st, err := Load("../scenarios/whole-summit.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := mocksal.LoadProfile(st.ProfilePath("summit"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Stand: st}
	specs, err := e.ProfileSpecs(prof, time.Minute, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	var phases []time.Duration
	var indices []int32
	for _, sp := range specs {
		if sp.Phase >= maxPhaseSpread {
			t.Errorf("%s %s:%d starts %s late", sp.CSC, sp.Topic, sp.Index, sp.Phase)
		}
		if sp.CSC == "ESS" && sp.Topic == "temperature" {
			phases = append(phases, sp.Phase)
			indices = append(indices, sp.Index)
			if sp.RateHz != 2 {
				t.Errorf("ESS temperature at %g Hz, want the profile's 1 Hz times 2", sp.RateHz)
			}
		}
	}
	if !slices.Equal(indices, prof.Indices["ESS"]) {
		t.Fatalf("ESS temperature written at %v, want the profile's indices %v", indices, prof.Indices["ESS"])
	}
	step := maxPhaseSpread / time.Duration(len(phases)) // the period, 500 ms, is longer

	for k, p := range phases {
		if d := p - time.Duration(k)*step; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("index %d: phase %s, want %s", indices[k], p, time.Duration(k)*step)
		}
	}
}
