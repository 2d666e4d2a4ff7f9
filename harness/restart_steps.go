package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/reports"
)

// outage is when a component was down, as the steps that stopped and
// started it saw it: from the stop being asked for to the restarted
// component being ready. Between stopped (the stop done) and starting
// (the start asked for) it was certainly down; the edges are transitions.
type outage struct {
	stopAsked, stopped, starting, ready time.Time
}

// stopProducer stops a producer and notes when, for the outage steps.
func (st *Steps) stopProducer(ctx context.Context, name string) error {
	s := state(ctx)
	o := &outage{stopAsked: time.Now()}
	if err := st.Env.Stop(name); err != nil {
		return err
	}
	o.stopped = time.Now()
	s.outages[name] = o
	return nil
}

// restartProducer starts a producer again, stopping it first if it
// runs, with the CSCs (comma-separated) added to its list.
func (st *Steps) restartProducer(ctx context.Context, name, added string) error {
	s := state(ctx)
	o := s.outages[name]
	if o == nil || !o.ready.IsZero() {
		o = &outage{stopAsked: time.Now()}
		if st.Env.Running(name) {
			if err := st.Env.Stop(name); err != nil {
				return err
			}
		}
		o.stopped = time.Now()
		s.outages[name] = o
	}
	var cscs []string
	for _, c := range strings.Split(added, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cscs = append(cscs, c)
		}
	}
	o.starting = time.Now()
	if err := st.Env.RestartProducer(ctx, name, cscs...); err != nil {
		return err
	}
	o.ready = time.Now()
	return nil
}

// inFlight is how long before a stop a sample may still be on its way
// to the producer (on the bus, in its reader's queue) and be lost with
// the stop: such samples are counted with the stop's transition.
const inFlight = 250 * time.Millisecond

// lostWhileDown checks that a traffic lost exactly what was written while
// the producer was down: every sample written while it was certainly down
// is missing at the target, and every sample written while it ran arrives.
// Samples written during the stop (or just before it, still in flight)
// or the start may go either way; the verdict (with the missing seqNums)
// goes into the report.
func (st *Steps) lostWhileDown(ctx context.Context, csc, index, topic, producer, db, site, within string) error {
	s, tr, where, err := st.target(ctx, csc, index, topic, db, site)
	if err != nil {
		return err
	}
	o := s.outages[producer]
	if o == nil || o.ready.IsZero() {
		return fmt.Errorf("producer %q was not stopped and started again in this scenario", producer)
	}
	if err := tr.Wait(ctx); err != nil {
		return err
	}
	var down, up, edge []int32
	for _, w := range tr.Writes() {
		at := observe.WallTime(w.SndStamp)
		switch {
		case at.After(o.stopped) && at.Before(o.starting):
			down = append(down, w.SeqNum)
		case at.Before(o.stopAsked.Add(-inFlight)) || at.After(o.ready):
			up = append(up, w.SeqNum)
		default:
			edge = append(edge, w.SeqNum)
		}
	}
	if len(down) == 0 {
		return fmt.Errorf("%s %s: no sample was written while producer %s was down (%s to %s): the scenario shows nothing", csc, topic, producer, o.stopped.Format(time.StampMilli), o.starting.Format(time.StampMilli))
	}
	res, err := s.sc.VerdictWhen(ctx, tr, where, seconds(within), func(res reports.Topic) bool { return arrived(res, up) })
	if err != nil {
		return err
	}
	missing := map[int64]bool{}
	for _, m := range res.Missing {
		missing[m] = true
	}
	var lostUp, keptDown []int64
	for _, q := range up {
		if missing[int64(q)] {
			lostUp = append(lostUp, int64(q))
		}
	}
	for _, q := range down {
		if !missing[int64(q)] {
			keptDown = append(keptDown, int64(q))
		}
	}
	summary := fmt.Sprintf("%s %s at %s: sent %d, lost %d (seqNums %s); %d written while %s was down, %d while it stopped or started",
		csc, topic, where, res.Sent, res.Lost, seqList(res.Missing), len(down), producer, len(edge))
	switch {
	case len(lostUp) > 0:
		return fmt.Errorf("%s: lost %d written while it ran (seqNums %s)", summary, len(lostUp), seqList(lostUp))
	case len(keptDown) > 0:
		return fmt.Errorf("%s: %d written while it was down arrived (seqNums %s): something read the domain meanwhile", summary, len(keptDown), seqList(keptDown))
	}
	return nil
}

// arrived reports whether none of seqs is missing from res.
func arrived(res reports.Topic, seqs []int32) bool {
	if res.Lost > len(res.Missing) {
		return false // the list is cut short: it cannot tell
	}
	for _, q := range seqs {
		if slices.Contains(res.Missing, int64(q)) {
			return false
		}
	}
	return true
}
