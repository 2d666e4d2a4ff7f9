// flows.go holds the replication flows the harness runs itself, their
// heartbeats, the link faults steps put on them, and MirrorMaker 2 for
// the stand's mirrormaker2 flows, started by its backend.

package harness

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/replication"
)

// startFlow runs one of the stand's own replication flows in process
// as a component of kind "replication".
func (e *Env) startFlow(ctx context.Context, f *FlowSpec) error {
	src, dst := e.Sites[f.Source.Value], e.Sites[f.Target.Value]
	via := e.reach(f.Target.Value)
	r, err := replication.New(replication.Config{
		SourceAlias: f.Source.Value, TargetAlias: f.Target.Value,
		SourceBrokers: src.Brokers, TargetBrokers: dst.Brokers,
		Topics: f.Topics, TopicsExclude: f.Exclude,
		Policy: f.Policy, Separator: f.Separator,
		RefreshInterval:     f.Refresh.Duration,
		SyncConfigsInterval: f.SyncConfigs.Duration,
		Metrics:             e.mirrorMetrics,
		Logger:              e.log.With("component", "mirror "+f.Name),
		SourceOpts:          via.link(f.Source.Value, kgo.MetadataMinAge(100*time.Millisecond)),
		TargetOpts:          via.kafka(standsec.Replicator),
	})
	if err = cmp.Or(via.Err(), err); err != nil {
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
	return e.startComponent(ctx, f.Name, "replication", stats, settle, func(ctx context.Context, ready func()) error {
		r.SetReady(ready)
		return r.Run(ctx)
	}, e.mirrorMetrics.Registry())
}

// startHeartbeats emits MM2-style heartbeats for one pair of sites.
func (e *Env) startHeartbeats(ctx context.Context, h HeartbeatSpec) error {
	name := "heartbeats " + h.Source + "->" + h.Target
	opts, err := e.ClientOpts(h.Target, standsec.Replicator)
	if err != nil {
		return err
	}
	return e.startComponent(ctx, name, "heartbeats", nil, nil, func(ctx context.Context, ready func()) error {
		ready()
		return replication.EmitHeartbeats(ctx, replication.HeartbeatConfig{
			SourceAlias: h.Source, TargetAlias: h.Target, TargetBrokers: e.Sites[h.Target].Brokers, Opts: opts,
			Interval: h.Interval, Metrics: e.mirrorMetrics, Logger: e.log.With("component", name),
		})
	}, e.mirrorMetrics.Registry())
}

// LinkDown partitions the link from one site to another for d, then
// heals it: the flows' connections to the source hang, their requests
// time out and are retried, as across a real outage between the sites.
func (e *Env) LinkDown(ctx context.Context, from, to string, d time.Duration) error {
	t := NetTarget{Service: NetLink, From: from, To: to}
	if err := e.SetNetFault(t, netfault.Fault{Kind: netfault.Partition}); err != nil {
		return err
	}
	return e.HoldNetFault(ctx, t, netfault.Partition, d)
}

// SlowLink delays each direction of the link from one site to another by
// d (0 restores it): a round trip over it takes 2d longer.
func (e *Env) SlowLink(from, to string, d time.Duration) error {
	t := NetTarget{Service: NetLink, From: from, To: to}
	if d <= 0 {
		return e.ClearNetFault(t, netfault.Latency)
	}
	return e.SetNetFault(t, netfault.Fault{Kind: netfault.Latency, Latency: d})
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
