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
