package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
)

// Steps that compare the stand's components with the real systems they
// stand in for (backend process): MirrorMaker 2 against the replicator,
// Telegraf against the sink.

// replicaNames are the topics at a site that replication made or that
// carry heartbeats: everything but Kafka's and MM2's own bookkeeping
// (__*, mm2-*, *.internal), which differ by implementation.
func (e *Env) replicaNames(ctx context.Context, site string) ([]string, error) {
	names, err := e.topics(ctx, site)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool {
		return strings.HasPrefix(n, "__") || strings.HasPrefix(n, "mm2-") || strings.HasSuffix(n, ".internal")
	}), nil
}

// sameTopics waits until two sites have the same topics (replicas and
// heartbeats), at least one, and fails with what differs.
func (st *Steps) sameTopics(ctx context.Context, a, b, within string) error {
	return wait.ForCondition("the same topics at "+a+" and "+b, func(ctx context.Context) error {
		ta, err := st.Env.replicaNames(ctx, a)
		if err != nil {
			return err
		}
		tb, err := st.Env.replicaNames(ctx, b)
		if err != nil {
			return err
		}
		onlyA, onlyB := difference(ta, tb), difference(tb, ta)
		if len(ta) == 0 || len(onlyA) > 0 || len(onlyB) > 0 {
			return fmt.Errorf("only at %s: %v; only at %s: %v (both: %d)", a, onlyA, b, onlyB, len(ta)-len(onlyA))
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
}

// difference is what a has and b has not, sorted.
func difference(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	out := map[string]bool{}
	for _, x := range a {
		if !in[x] {
			out[x] = true
		}
	}
	return slices.Sorted(maps.Keys(out))
}

// samePoints waits until two databases of a site hold the same points,
// field by field (time included), and at least one; it fails with the
// first differences.
func (st *Steps) samePoints(ctx context.Context, a, b, site, within string) error {
	se := st.Env.Sites[site]
	if se == nil || se.InfluxURL == "" {
		return fmt.Errorf("site %q has no InfluxDB", site)
	}
	ic := se.Influx()
	cond := wait.ForCondition("the same points in "+a+" and "+b+" at "+site, func(ctx context.Context) error {
		c, err := ic.CompareDatabases(ctx, st.Env.Database(site, a), st.Env.Database(site, b), a, b)
		switch {
		case err != nil:
			return err
		case !c.Equal():
			return fmt.Errorf("they differ:\n%s", strings.Join(c.Diffs, "\n"))
		case c.Points == 0:
			return errors.New("both are empty")
		}
		st.Env.log.Info("databases equal", "a", a, "b", b, "site", site, "measurements", c.Measurements, "points", c.Points, "values", c.Values)
		return nil
	}).WithTimeout(seconds(within))
	cond.Interval = 500 * time.Millisecond
	return cond.WaitUntilReady(ctx)
}

// loggedNoErrors asserts that a component run as a process (MirrorMaker
// 2, Telegraf, a binary) wrote no error line: Telegraf's "E!", log4j's
// and slf4j's "ERROR", slog's "level=ERROR".
func (st *Steps) loggedNoErrors(ctx context.Context, name string) error {
	c := st.Env.component(name)
	if c == nil {
		return fmt.Errorf("no component named %q (have %v)", name, st.Env.ComponentNames())
	}
	if c.proc == nil {
		return fmt.Errorf("%s %s runs in this process: its errors fail the scenario directly", c.kind, name)
	}
	var bad []string
	for _, line := range strings.Split(c.proc.Tail(1<<30), "\n") {
		if strings.Contains(line, " E! ") || strings.Contains(line, " ERROR ") || strings.Contains(line, "level=ERROR") {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("… %d more", len(bad)-5))
		}
		return fmt.Errorf("%s %s logged %d errors:\n%s", c.kind, name, len(bad), strings.Join(bad, "\n"))
	}
	return nil
}
