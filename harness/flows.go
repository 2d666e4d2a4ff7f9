// flows.go holds the replication flows the harness runs itself, their
// heartbeats, the link faults steps put on them, and MirrorMaker 2 for
// the stand's mirrormaker2 flows, started by its backend.

package harness

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/replication"
)

// startFlow runs one of the stand's own replication flows in process
// as a component of kind "replication".
func (e *Env) startFlow(ctx context.Context, f *FlowSpec) error {
	src, dst := e.Sites[f.Source.Value], e.Sites[f.Target.Value]
	r, err := replication.New(replication.Config{
		SourceAlias: f.Source.Value, TargetAlias: f.Target.Value,
		SourceBrokers: src.Brokers, TargetBrokers: dst.Brokers,
		Topics: f.Topics, TopicsExclude: f.Exclude,
		Policy: f.Policy, Separator: f.Separator,
		RefreshInterval:     f.Refresh.Duration,
		SyncConfigsInterval: f.SyncConfigs.Duration,
		Metrics:             e.mirrorMetrics,
		Logger:              e.log.With("component", "mirror "+f.Name),
		SourceOpts:          []kgo.Opt{kgo.MetadataMinAge(100 * time.Millisecond)},
	})
	if err != nil {
		return fmt.Errorf("replication %s: %w", f.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{
			"replicated": r.Stats.Replicated.Load(), "topics": r.Stats.Topics.Load(),
			"partitions_added": r.Stats.Partitions.Load(), "configs_synced": r.Stats.Synced.Load(),
		}
	}
	// Settling waits until the flow has the replica of every topic it
	// replicates, refreshing before each look: on real Kafka a topic a
	// producer just created may not be in the metadata of the broker
	// asked yet, and the flow's next periodic refresh may be a minute
	// away (as Sasquatch's MirrorMaker 2 refreshes).
	settle := func(ctx context.Context) error {
		return e.waitReplicas(ctx, []*FlowSpec{f}, func() error { return r.Refresh(ctx) })
	}
	if err := e.startComponent(ctx, f.Name, "replication", stats, settle, func(ctx context.Context, ready func()) error {
		r.SetReady(ready)
		return r.Run(ctx)
	}, e.mirrorMetrics.Registry()); err != nil {
		return err
	}
	e.mu.Lock()
	e.components[f.Name].slow = r.SetDelay
	e.mu.Unlock()
	return nil
}

// startHeartbeats emits MM2-style heartbeats for one pair of sites.
func (e *Env) startHeartbeats(ctx context.Context, h HeartbeatSpec) error {
	name := "heartbeats " + h.Source + "->" + h.Target
	return e.startComponent(ctx, name, "heartbeats", nil, nil, func(ctx context.Context, ready func()) error {
		ready()
		return replication.EmitHeartbeats(ctx, replication.HeartbeatConfig{
			SourceAlias: h.Source, TargetAlias: h.Target, TargetBrokers: e.Sites[h.Target].Brokers,
			Interval: h.Interval, Metrics: e.mirrorMetrics, Logger: e.log.With("component", name),
		})
	}, e.mirrorMetrics.Registry())
}

// flows lists the in-process replication flows from one site to another.
func (e *Env) flows(from, to string) ([]string, error) {
	var names []string
	for _, f := range e.Stand.Replication {
		if f.Source.Value != from || f.Target.Value != to || f.Run == ExternalRun {
			continue
		}
		name := f.Name
		if f.Run == MirrorMaker2 {
			name = mirrorMakerName // one process runs all of them
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no replication flow of this stand runs from %s to %s", from, to)
	}
	return names, nil
}

// LinkDown cuts the link from one site to another for d: its replication
// flows stop (as when the network between the sites is down), and start
// again afterwards, continuing from what they committed.
func (e *Env) LinkDown(ctx context.Context, from, to string, d time.Duration) error {
	names, err := e.flows(from, to)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := e.Stop(n); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	for _, n := range names {
		if err := e.Restart(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// SlowLink makes every write over the link from one site to another wait
// d (0 restores it).
func (e *Env) SlowLink(from, to string, d time.Duration) error {
	names, err := e.flows(from, to)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		c := e.components[n]
		if c != nil && c.slow == nil {
			return fmt.Errorf("%s runs outside this process: only the stand's own replicator can be slowed", n)
		}
		if c != nil {
			c.slow(d)
		}
	}
	return nil
}

// mirrorMakerName is the component that runs every flow of a stand whose
// run is mirrormaker2: one MirrorMaker 2 process, as deployed, since
// several would form one Connect cluster per pair and fight over its
// configuration.
const mirrorMakerName = string(MirrorMaker2)

// startMirrorMaker runs the stand's mirrormaker2 flows in one MirrorMaker
// 2 on the backend.
func (e *Env) startMirrorMaker(ctx context.Context) error {
	flows := e.Stand.MM2Flows()
	if len(flows) == 0 {
		return nil
	}
	mm, err := e.backend.StartMirrorMaker(ctx, flows)
	if err != nil {
		return err
	}
	p := mm.Process
	e.register(&component{name: mirrorMakerName, kind: "replication", proc: p, done: p.Done(),
		cancel: func() { _ = p.Stop(binaryGrace) }, settle: mm.Settle})
	return nil
}
