// traffic.go holds a stand's background traffic: SAL samples written
// while scenarios run, apart from theirs.

package harness

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/mocksal"
)

// backgroundOrigin is the private_origin of background traffic: no
// scenario's taps count it.
const backgroundOrigin = 2_000_000_000

// Background load and a scenario's traffic stamp their samples on
// different microseconds (mocksal's lanes): the two write the same topics
// of the same CSCs, and a background point with the time of a checked one
// would overwrite it in the EFD and fail a verdict for what no deployment
// can do (one CSC writes its topic).
const (
	stampLanes     = 2
	checkedLane    = 0
	backgroundLane = 1
)

// startTraffic writes a stand's background load until the stand goes
// down: every topic the profile rates, for the CSCs the domain serves.
func (e *Env) startTraffic(ctx context.Context, i int, t *TrafficSpec) error {
	planned, err := t.LoadedProfile().Resolve(e.Stand.Loaded)
	if err != nil {
		return err
	}
	served := e.Stand.ServedOn(t.Domain)
	scale := t.Scale
	if scale == 0 {
		scale = 1
	}
	var writers []mocksal.WriterConfig
	for _, pl := range planned {
		for _, index := range served.Indices(pl.Writer.Topic.CSC, pl.Writer.Index, pl.Listed) {
			w := pl.Writer
			w.Index, w.Domain, w.RateHz, w.Origin = index, t.Domain, w.RateHz*scale, backgroundOrigin+int32(i)
			w.Count, w.Duration = 0, 100*365*24*time.Hour // until the stand goes down
			w.Lanes, w.Lane = stampLanes, backgroundLane
			writers = append(writers, w)
		}
	}
	var written atomic.Int64
	name := fmt.Sprintf("traffic %s@%d", t.Profile, t.Domain)
	stats := func() map[string]int64 {
		return map[string]int64{"written": written.Load(), "writers": int64(len(writers))}
	}
	return e.startComponent(ctx, name, "traffic", stats, nil, func(ctx context.Context, ready func()) error {
		ready()
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Go(func() {
				_, err := mocksal.Run(ctx, e.Bus, w, func(mocksal.Write) { written.Add(1) })
				if err != nil && ctx.Err() == nil {
					e.log.Warn("background traffic", "topic", w.Topic.Name, "err", err)
				}
			})
		}
		wg.Wait()
		return nil
	}, nil)
}

// maxPhaseSpread bounds how far apart a topic's writers at several
// indices start (see ProfileSpecs).
const maxPhaseSpread = 100 * time.Millisecond

// ProfileSpecs are the writers of a profile for a duration on a domain,
// its rates times scale: every topic it gives a rate to, for each CSC a
// producer on the domain serves, at each index the profile lists that a
// producer serves (or the producer's index for a CSC it does not list).
func (e *Env) ProfileSpecs(prof *mocksal.Profile, dur time.Duration, domain int, scale float64) ([]PublishSpec, error) {
	planned, err := prof.Resolve(e.Stand.Loaded)
	if err != nil {
		return nil, err
	}
	served := e.Stand.ServedOn(domain)
	var specs []PublishSpec
	for _, pl := range planned {
		w := pl.Writer
		for _, index := range served.Indices(w.Topic.CSC, w.Index, pl.Listed) {
			specs = append(specs, PublishSpec{CSC: w.Topic.CSC, Index: index, Topic: w.Topic.Name, RateHz: w.RateHz * scale, Duration: dur, Domain: domain, Burst: w.Burst, Jitter: w.Jitter})
		}
	}
	// The writers of one topic at several indices tick apart, as separate
	// processes do: in step, two would write the same microsecond, and
	// the EFD (no salIndex tag, as Sasquatch deploys it) would keep only
	// one of the two points. They are spread over the period, or over
	// 100 ms when the period is longer (a rare event's writer must not
	// wait minutes for its first tick).
	group := map[[2]string][]int{}
	for i, sp := range specs {
		k := [2]string{sp.CSC, sp.Topic}
		group[k] = append(group[k], i)
	}
	for _, idx := range group {
		for k, i := range idx {
			spread := min(time.Duration(float64(time.Second)/specs[i].RateHz), maxPhaseSpread)
			specs[i].Phase = time.Duration(float64(k) / float64(len(idx)) * float64(spread))
		}
	}
	return specs, nil
}
