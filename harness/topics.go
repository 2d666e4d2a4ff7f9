// topics.go lists and waits for a site's topics: what the stand's
// producers create, and the replicas its flows should make of them.

package harness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/replication"
)

// waitReplicas waits until, at each flow's target, the replica of every
// topic the flow replicates at its source exists; alive fails the wait
// early when what should make them has gone.
func (e *Env) waitReplicas(ctx context.Context, flows []*FlowSpec, alive func() error) error {
	for _, f := range flows {
		flow, err := replication.NewFlow(f.Source.Value, f.Target.Value, f.Topics, f.Exclude, f.Policy, f.Separator)
		if err != nil {
			return err
		}
		topics, err := e.topics(ctx, f.Source.Value)
		if err != nil {
			return err
		}
		// The topics the source's producers created may not all be in
		// its broker's metadata yet: count them in by name as well.
		topics = append(topics, e.producedTopics(f.Source.Value)...)
		var want []string
		for _, t := range topics {
			if flow.Replicates(t) {
				want = append(want, flow.RemoteTopic(t))
			}
		}
		if err := e.waitTopics(ctx, f.Target.Value, want, 2*time.Minute, alive); err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
	}
	return nil
}

// readyTopics lists a site's topics whose every partition has a leader
// (a client starting now sees them whole).
func (e *Env) readyTopics(ctx context.Context, site string) ([]string, error) {
	td, err := e.listTopics(ctx, site)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range td.Sorted() {
		ok := t.Err == nil && len(t.Partitions) > 0
		for _, p := range t.Partitions {
			ok = ok && p.Err == nil && p.Leader >= 0
		}
		if ok {
			out = append(out, t.Topic)
		}
	}
	return out, nil
}

// producedTopics are the topics the stand's producers at site create
// when they start: every topic of every CSC they serve.
func (e *Env) producedTopics(site string) []string {
	var out []string
	for _, p := range e.Stand.Producers {
		if p.Site.Value != site {
			continue
		}
		for _, c := range p.CSCs {
			name, _, _ := strings.Cut(c.Value, ":")
			if comp := e.Stand.Loaded.Component(name); comp != nil {
				for _, t := range comp.Topics {
					out = append(out, t.KafkaTopic(p.Subname))
				}
			}
		}
	}
	return out
}

// topics lists a site's topics.
func (e *Env) topics(ctx context.Context, site string) ([]string, error) {
	td, err := e.listTopics(ctx, site)
	if err != nil {
		return nil, err
	}
	return td.Names(), nil
}

// listTopics describes a site's topics.
func (e *Env) listTopics(ctx context.Context, site string) (kadm.TopicDetails, error) {
	se := e.Sites[site]
	if se == nil {
		return nil, fmt.Errorf("unknown site %q", site)
	}
	cl, err := se.client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("site %s: list topics: %w", site, err)
	}
	return td, nil
}

// waitTopics waits until every topic in want exists at site, for at most
// d, and fails early when alive says the process that should make them
// has exited.
func (e *Env) waitTopics(ctx context.Context, site string, want []string, d time.Duration, alive func() error) error {
	return wait.ForCondition("topics at "+site, func(ctx context.Context) error {
		have, err := e.readyTopics(ctx, site)
		if err != nil {
			return err
		}
		if missing := difference(want, have); len(missing) > 0 {
			return fmt.Errorf("still missing %v", missing)
		}
		return nil
	}).WithTimeout(d).WithAlive(alive).WaitUntilReady(ctx)
}
