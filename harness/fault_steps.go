package harness

// Steps that break and mend the stand: components stopped, killed and
// restarted, links down or slow, registries down, commits refused, and
// what the stand does meanwhile (lag, heartbeats, schema id conflicts).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/replication"
)

func (st *Steps) stopComponent(ctx context.Context, name string) error {
	return st.Env.Stop(name)
}

func (st *Steps) pass(ctx context.Context, secs string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(seconds(secs)):
		return nil
	}
}

func (st *Steps) commitsFail(ctx context.Context, what, site string) error {
	return st.Env.FailCommits(site, what == "fail")
}

func (st *Steps) lagDrains(ctx context.Context, kind, name, within string) error {
	metric, labels := "efdsink_consumer_lag_records", map[string]string(nil)
	if kind == "replication flow" {
		metric = "mirror_lag_records"
		for _, f := range st.Env.Stand.Replication {
			if f.Name == name {
				labels = map[string]string{"source": f.Source.Value, "target": f.Target.Value}
			}
		}
		if labels == nil {
			return fmt.Errorf("no replication flow named %q", name)
		}
	}
	return wait.ForCondition("the lag of the "+kind+" "+name, func(ctx context.Context) error {
		fams, err := st.Env.Metrics(ctx, name)
		if err != nil {
			return err
		}
		if lag := sumValues(fams, metric, labels); lag != 0 {
			return fmt.Errorf("the %s %q still lags by %.0f records", kind, name, lag)
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
}

func (st *Steps) killComponent(ctx context.Context, name string) error {
	return st.Env.Kill(name)
}

func (st *Steps) restartComponent(ctx context.Context, name string) error {
	return st.Env.Restart(ctx, name)
}

func (st *Steps) heartbeatArrives(ctx context.Context, source, target, topic, site, within string) error {
	se := st.Env.Sites[site]
	if se == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	since := state(ctx).started.Truncate(time.Millisecond)
	wctx, cancel := context.WithTimeout(ctx, seconds(within))
	defer cancel()
	others, err := observe.ReadUntil(wctx, se.Brokers, topic, func(r *kgo.Record) bool {
		h, err := replication.ParseHeartbeat(r.Key, r.Value)
		return err == nil && h.SourceAlias == source && h.TargetAlias == target && !h.Timestamp.Before(since)
	}, se.KafkaOpts...)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("no heartbeat %s->%s in %s at %s within %s s (%d other records)", source, target, topic, site, within, others)
	}
	return err
}

func (st *Steps) registryConflicts(ctx context.Context, site, no string) error {
	se := st.Env.Sites[site]
	if se == nil || se.Registry == nil {
		return fmt.Errorf("site %q has no registry", site)
	}
	// The registry shows a record another writer put in its storage
	// topic once it has read it: Sync reads to the topic's end first.
	// Replicated records arrive a flow's round trip after the schemas
	// are registered, so conflicts are waited for; none is what the
	// registry shows once it has read everything there is.
	var c []registry.Conflict
	check := wait.ForCondition("schema id conflicts at the registry at "+site, func(ctx context.Context) error {
		if err := se.Registry.Sync(ctx); err != nil {
			return err
		}
		if c = se.Registry.Conflicts(); len(c) == 0 {
			return errors.New("none yet")
		}
		return nil
	}).WithTimeout(10 * time.Second)
	if no != "" {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := se.Registry.Sync(sctx); err != nil {
			return fmt.Errorf("the registry at %s: %w", site, err)
		}
		c = se.Registry.Conflicts()
	} else if err := check.WaitUntilReady(ctx); err != nil && len(c) == 0 {
		return fmt.Errorf("the registry at %s reports no schema id conflict: %w", site, err)
	}
	if no != "" && len(c) > 0 {
		return fmt.Errorf("the registry at %s reports %d schema id conflicts, the first: %v", site, len(c), c[0])
	}
	return nil
}

func (st *Steps) linkDown(ctx context.Context, from, to, secs string) error {
	s := state(ctx)
	rec := s.faultSet(NetTarget{Service: NetLink, From: from, To: to}, netfault.Fault{Kind: netfault.Partition})
	defer s.faultHealed(rec)
	return st.Env.LinkDown(ctx, from, to, seconds(secs))
}

func (st *Steps) slowLink(ctx context.Context, from, to, amount, unit string) error {
	d := seconds(amount)
	if unit == "ms" {
		d /= 1000
	}
	return st.Env.SlowLink(from, to, d)
}

func (st *Steps) brokerFault(ctx context.Context, n, site, action string) error {
	f, err := capability[backend.BrokerFaulter](st.Env, "broker "+action+": broker faults")
	if err != nil {
		return err
	}
	if st.Env.Sites[site] == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	i, _ := strconv.Atoi(n)
	if action == "killed" {
		return f.KillBroker(site, i)
	}
	return f.RestartBroker(ctx, site, i)
}

func (st *Steps) registryDown(ctx context.Context, site, what string) error {
	if what == "goes down" {
		return st.Env.StopRegistry(site)
	}
	return st.Env.StartRegistry(ctx, site)
}

// containerFault acts on a site's container, on a backend that is a
// ContainerActor.
func (st *Steps) containerFault(ctx context.Context, service, site, action string) error {
	a, err := capability[backend.ContainerActor](st.Env, service+" "+action+": container actions")
	if err != nil {
		return err
	}
	return a.ContainerAction(ctx, service, site, action)
}

// netTarget is the target the four groups of netTargetArg name.
func netTarget(from, to, service, site string) NetTarget {
	if service == "" {
		return NetTarget{Service: NetLink, From: from, To: to}
	}
	return NetTarget{Service: strings.ToLower(service), Site: site}
}

// netFaultKinds are the verbs of the fault step.
var netFaultKinds = map[string]netfault.Kind{
	"partitioned": netfault.Partition, "blackholed": netfault.Blackhole, "reset": netfault.Reset,
}

func (st *Steps) netFault(ctx context.Context, from, to, service, site, verb, secs, background string) error {
	t, kind := netTarget(from, to, service, site), netFaultKinds[verb]
	if err := st.Env.SetNetFault(t, netfault.Fault{Kind: kind}); err != nil {
		return err
	}
	s := state(ctx)
	rec := s.faultSet(t, netfault.Fault{Kind: kind})
	if secs == "" {
		return nil
	}
	heal := func(ctx context.Context) error {
		err := st.Env.HoldNetFault(ctx, t, kind, seconds(secs))
		s.faultHealed(rec)
		return err
	}
	if background != "" {
		s.sc.Go(func(ctx context.Context) {
			if err := heal(ctx); err != nil && ctx.Err() == nil {
				st.Env.log.Error("network fault: heal", "target", t.String(), "err", err)
			}
		})
		return nil
	}
	return heal(ctx)
}

func (st *Steps) netLatency(ctx context.Context, from, to, service, site, latency, jitter string) error {
	t := netTarget(from, to, service, site)
	l, j := seconds(latency)/1000, seconds(jitter)/1000
	if l == 0 {
		return st.Env.ClearNetFault(t, netfault.Latency)
	}
	return st.Env.SetNetFault(t, netfault.Fault{Kind: netfault.Latency, Latency: l, Jitter: j})
}

func (st *Steps) netBandwidth(ctx context.Context, from, to, service, site, rate string) error {
	t := netTarget(from, to, service, site)
	r, _ := strconv.ParseFloat(rate, 64)
	if r == 0 {
		return st.Env.ClearNetFault(t, netfault.Bandwidth)
	}
	return st.Env.SetNetFault(t, netfault.Fault{Kind: netfault.Bandwidth, Rate: max(1, int64(r))})
}

func (st *Steps) netHeal(ctx context.Context, from, to, service, site string) error {
	t := netTarget(from, to, service, site)
	if _, err := st.Env.netTarget(t); err != nil {
		return err
	}
	err := st.Env.HealNetwork(t)
	state(ctx).healAll(t)
	return err
}
