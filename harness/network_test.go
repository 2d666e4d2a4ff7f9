package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/reports"
)

// TestUnsurvivedFaultsFail runs network faults a stand does not survive
// and wants each scenario failed for it: a producer that gives a topic up
// when the registry stays unreachable loses the new CSC's samples, and a
// catch-up bound the stand cannot meet is reported as missed, with the
// fault measured in the results.
func TestUnsurvivedFaultsFail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{
		Stand: "testdata/network/impatient-producer.yaml", Features: []string{"testdata/network/unsurvived.feature"},
		ReportDir: t.TempDir(), Output: testOutput(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed {
		t.Fatalf("a run with faults its stand does not survive passed:\n%s", Summary(res))
	}
	want := map[string]string{
		"A registry outage outlasts the producer's patience": "lost 250",
		"A catch-up bound the stand does not meet":           "not at most 0.001 s",
	}
	for _, sc := range res.Results.Scenarios {
		w, ok := want[sc.Name]
		if !ok {
			continue
		}
		delete(want, sc.Name)
		if sc.Status != "failed" || !strings.Contains(sc.Error, w) {
			t.Errorf("%s: %s, %q; want failed with %q", sc.Name, sc.Status, sc.Error, w)
		}
		if len(sc.Faults) != 1 || sc.Faults[0].Healed.IsZero() {
			t.Errorf("%s: faults %+v, want the one fault, healed", sc.Name, sc.Faults)
		}
		if strings.Contains(sc.Name, "catch-up") && (!sc.Faults[0].Measured || sc.Faults[0].Held == 0) {
			t.Errorf("%s: fault %+v, want it measured with samples held", sc.Name, sc.Faults[0])
		}
	}
	if len(want) > 0 {
		t.Errorf("scenarios not run: %v", want)
	}
}

// TestCatchUpOf judges a healed fault from hand-made verdicts: the
// catch-up is the last arrival of a sample written before the heal, after
// the heal; a fault that held nothing, or a partitioned link that let
// samples through, is not a fault the samples met.
func TestCatchUpOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// pt is a sample written at s seconds that arrived at a seconds.
	pt := func(s, a float64) reports.Point { return reports.Point{At: at(s), LatencyMS: (a - s) * 1000} }
	verdict := func(target string, dups int, pts ...reports.Point) reports.Topic {
		return reports.Topic{Topic: "lsst.sal.ATDome.position", Target: target, Duplicated: dups,
			Hops: []reports.Hop{{Name: "→kafka@summit"}, {Name: "e2e", Series: pts}}}
	}
	link := NetTarget{Service: NetLink, From: "summit", To: "usdf"}
	// A partition from 10 s to 70 s.
	rec := func(t NetTarget, k netfault.Kind) *faultRecord {
		return &faultRecord{target: t, kind: k, rep: reports.Fault{Set: at(10), Healed: at(70)}}
	}
	cases := []struct {
		name     string
		rec      *faultRecord
		verdicts []reports.Topic
		catchUp  float64 // s
		held     int
		dups     int
		err      string
	}{
		{name: "held samples catch up 20 s after the heal", rec: rec(link, netfault.Partition),
			verdicts: []reports.Topic{verdict("influxdb@usdf/efd", 3, pt(5, 5.2), pt(20, 85), pt(60, 90), pt(75, 91))},
			catchUp:  20, held: 1, dups: 3},
		{name: "each writer once, at its furthest target", rec: rec(link, netfault.Partition),
			verdicts: []reports.Topic{
				{Topic: "lsst.sal.ATDome.position", Target: "kafka@usdf/summit.lsst.sal.ATDome.position", Duplicated: 3, Hops: []reports.Hop{{Name: "e2e", Series: []reports.Point{pt(20, 80)}}}},
				verdict("influxdb@usdf/efd", 3, pt(20, 81)),
			},
			catchUp: 11, held: 1, dups: 3},
		{name: "another site's verdicts are not the link's", rec: rec(link, netfault.Partition),
			verdicts: []reports.Topic{verdict("kafka@summit/lsst.sal.ATDome.position", 0, pt(20, 20.1))},
			err:      "no verdict of this scenario at usdf holds a sample written before the heal"},
		{name: "a partition that held nothing was not on the path", rec: rec(link, netfault.Partition),
			verdicts: []reports.Topic{verdict("influxdb@usdf/efd", 0, pt(5, 5.1), pt(75, 75.1))},
			err:      "of the 0 samples written during it, none written in its first half arrived after the heal"},
		{name: "samples in flight at the heal were not held", rec: rec(NetTarget{Service: NetInflux, Site: "usdf"}, netfault.Blackhole),
			verdicts: []reports.Topic{verdict("influxdb@usdf/efd", 0, pt(20, 20.2), pt(69.9, 70.3))},
			err:      "of the 2 samples written during it, none written in its first half arrived after the heal"},
		{name: "a partitioned link that let samples through", rec: rec(link, netfault.Partition),
			verdicts: []reports.Topic{verdict("influxdb@usdf/efd", 0, pt(20, 20.2), pt(30, 71))},
			err:      "1 samples written during it arrived before the heal"},
		{name: "a registry fault holds one CSC while others flow", rec: rec(NetTarget{Service: NetRegistry, Site: "summit"}, netfault.Partition),
			verdicts: []reports.Topic{verdict("influxdb@usdf/efd", 0, pt(20, 20.2)), verdict("influxdb@usdf/efd", 0, pt(30, 72))},
			catchUp:  2, held: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Distinct writers unless the case says otherwise.
			for i := range c.verdicts {
				if c.name != "each writer once, at its furthest target" {
					c.verdicts[i].Identity = string(rune('A' + i))
				}
			}
			got, err := catchUpOf(c.rec, c.verdicts)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.CatchUpMS != c.catchUp*1000 || got.Held != c.held || got.Duplicated != c.dups || !got.Measured {
				t.Fatalf("catch-up %.0f ms, held %d, dups %d, measured %t; want %.0f ms, %d, %d", got.CatchUpMS, got.Held, got.Duplicated, got.Measured, c.catchUp*1000, c.held, c.dups)
			}
		})
	}
}
