// catchup.go holds what a scenario keeps of the network faults its steps
// set, and the catch-up verdict: how long after a fault healed the stand
// had delivered what was written before the heal, judged from the
// scenario's delivery verdicts so that it cannot pass on a fault that
// never stood in the samples' way.

package harness

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/reports"
)

// faultRecord is one fault a step set.
type faultRecord struct {
	target NetTarget
	kind   netfault.Kind
	rep    reports.Fault
}

// faultSet records that a step put f on t now.
func (s *scenarioState) faultSet(t NetTarget, f netfault.Fault) *faultRecord {
	r := &faultRecord{target: t, kind: f.Kind, rep: reports.Fault{Target: t.String(), Fault: f.String(), Set: time.Now()}}
	s.faultsMu.Lock()
	s.faults = append(s.faults, r)
	s.faultsMu.Unlock()
	return r
}

// faultHealed records that r was taken off now.
func (s *scenarioState) faultHealed(r *faultRecord) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	if r.rep.Healed.IsZero() {
		r.rep.Healed = time.Now()
	}
}

// healAll records that every fault on t still on was taken off now.
func (s *scenarioState) healAll(t NetTarget) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	now := time.Now()
	for _, r := range s.faults {
		if r.target == t && r.rep.Healed.IsZero() {
			r.rep.Healed = now
		}
	}
}

// faultReports are the scenario's faults for its report, once it ended:
// those still on healed then, as the harness heals every one.
func (s *scenarioState) faultReports() []reports.Fault {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	var out []reports.Fault
	now := time.Now()
	for _, r := range s.faults {
		if r.rep.Healed.IsZero() {
			r.rep.Healed = now
		}
		out = append(out, r.rep)
	}
	return out
}

// lastHealed is the last fault on t that healed.
func (s *scenarioState) lastHealed(t NetTarget) *faultRecord {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	for i := len(s.faults) - 1; i >= 0; i-- {
		if r := s.faults[i]; r.target == t && !r.rep.Healed.IsZero() {
			return r
		}
	}
	return nil
}

// catchUpOf measures a healed fault from the verdicts taken at where it
// acted: the catch-up (the last arrival of a sample written before the
// heal, less the heal), the samples held (written in the fault's first
// half and arrived only after the heal: a sample in flight when it healed
// is not one the fault held), and the duplicates counted. It fails when
// the fault held nothing, and, for a link that let nothing through, when
// something written during it arrived before the heal: either way the
// fault was not on the samples' path.
func catchUpOf(r *faultRecord, verdicts []reports.Topic) (reports.Fault, error) {
	rep := r.rep
	var at string
	switch r.target.Service {
	case NetLink:
		at = "@" + r.target.To + "/"
	case NetInflux:
		at = "influxdb@" + r.target.Site + "/"
	}
	set, healed := rep.Set, rep.Healed
	half := set.Add(healed.Sub(set) / 2)
	var last time.Time
	before, during, early := 0, 0, 0
	var earlyAt []string
	// Each writer's samples once, at the furthest target checked: the
	// EFD rather than the Kafka replica on its way.
	furthest := map[[2]string]reports.Topic{}
	var order [][2]string
	for _, v := range verdicts {
		if at != "" && !strings.Contains(v.Target, at) || len(v.Hops) == 0 {
			continue
		}
		k := [2]string{v.Topic, v.Identity}
		f, seen := furthest[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || len(v.Hops) >= len(f.Hops) {
			furthest[k] = v
		}
	}
	for _, k := range order {
		v := furthest[k]
		rep.Duplicated += v.Duplicated
		for _, p := range v.Hops[len(v.Hops)-1].Series {
			if !p.At.Before(healed) {
				continue
			}
			before++
			arrived := p.At.Add(time.Duration(p.LatencyMS * float64(time.Millisecond)))
			if arrived.After(last) {
				last = arrived
			}
			if p.At.Before(set) {
				continue
			}
			during++
			if arrived.After(healed) {
				if p.At.Before(half) {
					rep.Held++
				}
			} else if early++; len(earlyAt) < 3 {
				earlyAt = append(earlyAt, v.Label())
			}
		}
	}
	what := fmt.Sprintf("%s on %s", rep.Fault, rep.Target)
	if before == 0 {
		return rep, fmt.Errorf("the catch-up after %s: no verdict of this scenario at %s holds a sample written before the heal; check delivery first", what, strings.Trim(cmp.Or(at, "any site"), "@/"))
	}
	if rep.Held == 0 {
		return rep, fmt.Errorf("the catch-up after %s: of the %d samples written during it, none written in its first half arrived after the heal: the fault was not on their path", what, during)
	}
	stops := r.kind == netfault.Partition || r.kind == netfault.Blackhole
	if r.target.Service == NetLink && stops && early > 0 {
		return rep, fmt.Errorf("the catch-up after %s: %d samples written during it arrived before the heal (%s): the link let them through", what, early, strings.Join(earlyAt, "; "))
	}
	rep.CatchUpMS = max(0, float64(last.Sub(healed).Microseconds())/1e3)
	rep.Measured = true
	return rep, nil
}

func (st *Steps) catchUp(ctx context.Context, from, to, service, site, bound string) error {
	s := state(ctx)
	t := netTarget(from, to, service, site)
	r := s.lastHealed(t)
	if r == nil {
		return fmt.Errorf("the catch-up after %s: no fault on it has healed in this scenario", t)
	}
	rep, err := catchUpOf(r, s.sc.Results())
	s.faultsMu.Lock()
	r.rep = rep
	s.faultsMu.Unlock()
	if err != nil {
		return err
	}
	if limit := seconds(bound); time.Duration(rep.CatchUpMS*float64(time.Millisecond)) > limit {
		return fmt.Errorf("the catch-up after %s on %s took %.1f s, not at most %s s (%d samples held, %d duplicates)", rep.Fault, rep.Target, rep.CatchUpMS/1e3, bound, rep.Held, rep.Duplicated)
	}
	return nil
}
