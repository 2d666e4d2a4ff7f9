// components.go holds the stand's components with their own lifetime
// (in process, binary or container): starting one, finding it, stopping,
// killing and restarting it, and its counters and metrics.

package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// component is one component of the stand with its own lifetime: in
// process (cancel, done), or a binary or container (proc).
type component struct {
	name, kind string
	proc       backend.Process     // for components run as binaries or containers
	metricsURL string              // a binary's Prometheus endpoint
	gatherer   prometheus.Gatherer // an in-process component's metrics
	adminURL   string              // a binary producer's admin API
	cancel     context.CancelFunc
	done       <-chan struct{}
	err        error
	stats      func() map[string]int64
	// settle, when set, makes the component take up what the stand
	// created since it started (new topics), once the stand is up.
	settle func(ctx context.Context) error
	// start starts the component again as it was started (see
	// restartable); nil for components that cannot be restarted.
	start func(ctx context.Context) error
}

// restartable starts a component with start and keeps start on it, so
// that Restart is Stop, then the same start again.
func (e *Env) restartable(ctx context.Context, name string, start func(context.Context) error) error {
	if err := start(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.components[name]; c != nil {
		c.start = start
	}
	return nil
}

// startComponent runs fn in its own goroutine with its own context, and
// waits until it calls ready (or fails first).
func (e *Env) startComponent(ctx context.Context, name, kind string, stats func() map[string]int64, settle func(context.Context) error, fn func(ctx context.Context, ready func()) error, metrics prometheus.Gatherer) error {
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	c := &component{name: name, kind: kind, cancel: cancel, done: done, stats: stats, settle: settle, gatherer: metrics}
	readyCh := make(chan struct{})
	var once sync.Once
	ready := func() { once.Do(func() { close(readyCh) }) }
	go func() {
		defer close(done)
		c.err = fn(cctx, ready)
		if c.err != nil {
			e.log.Error("component stopped with an error", "component", name, "err", c.err)
		}
	}()
	select {
	case <-readyCh:
	case <-c.done:
		cancel()
		return fmt.Errorf("%s %s: %w", kind, name, errors.Join(c.err, errors.New("stopped before it was ready")))
	case <-ctx.Done():
		cancel()
		<-c.done
		return ctx.Err()
	}
	e.register(c)
	return nil
}

// component finds a component by name; a flow run by MirrorMaker 2 is
// the MirrorMaker 2 process that runs it.
func (e *Env) component(name string) *component {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.components[name]; c != nil {
		return c
	}
	for _, f := range e.Stand.Replication {
		if f.Name == name && f.Run == MirrorMaker2 {
			return e.components[mirrorMakerName]
		}
	}
	return nil
}

// register adds a started component (again, after a restart).
func (e *Env) register(c *component) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.order, c.name) {
		e.order = append(e.order, c.name)
	}
	e.components[c.name] = c
}

// Stop stops one component by name (a broken link, for fault scenarios).
func (e *Env) Stop(name string) error {
	c := e.component(name)
	if c == nil {
		return fmt.Errorf("no component named %q (have %v)", name, e.ComponentNames())
	}
	c.cancel()
	<-c.done
	return nil
}

// Kill stops a component at once: SIGKILL for one run as a binary (no
// flush, no commit), a cancelled context otherwise.
func (e *Env) Kill(name string) error {
	c := e.component(name)
	if c == nil {
		return fmt.Errorf("no component named %q (have %v)", name, e.ComponentNames())
	}
	if c.proc != nil {
		c.proc.Kill()
		return nil
	}
	c.cancel()
	<-c.done
	return nil
}

// Restart starts a stopped component again the way Up started it, as a
// restarted pod would: it continues from the progress it committed, and
// a component that settles (a flow taking up the topics created
// meanwhile) settles again.
func (e *Env) Restart(ctx context.Context, name string) error {
	c := e.component(name)
	if c == nil {
		return fmt.Errorf("no component named %q (have %v)", name, e.ComponentNames())
	}
	name = c.name // a flow MirrorMaker 2 runs is MirrorMaker 2
	if e.Running(name) {
		return fmt.Errorf("%s %s is running: stop it first", c.kind, name)
	}
	if c.start == nil {
		return fmt.Errorf("%s %s cannot be restarted (replication flows, sinks and producers can)", c.kind, name)
	}
	e.mu.Lock()
	delete(e.components, name)
	e.mu.Unlock()
	if err := e.restartable(ctx, name, c.start); err != nil {
		return err
	}
	if settle := e.component(name).settle; settle != nil {
		return settle(ctx)
	}
	return nil
}

// Running reports whether a component is running.
func (e *Env) Running(name string) bool {
	c := e.component(name)
	if c == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// ComponentNames lists components, sorted.
func (e *Env) ComponentNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.components))
	for n := range e.components {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Stats returns each component's counters.
func (e *Env) Stats() map[string]map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]map[string]int64{}
	for n, c := range e.components {
		if c.stats != nil {
			out[n] = c.stats()
		}
	}
	return out
}

// Metrics reads a component's Prometheus metrics: scraped from a binary's
// endpoint, gathered from an in-process component's registry.
func (e *Env) Metrics(ctx context.Context, name string) ([]*dto.MetricFamily, error) {
	c := e.component(name)
	switch {
	case c == nil:
		return nil, fmt.Errorf("no component named %q (have %v)", name, e.ComponentNames())
	case c.metricsURL != "":
		return scrape(ctx, c.metricsURL)
	case c.gatherer != nil:
		return gather(c.gatherer)
	}
	return nil, fmt.Errorf("%s %s has no metrics", c.kind, name)
}

// WriteLogs writes the output of every process the stand runs (binaries,
// MirrorMaker 2, Telegraf, Kafka nodes) into dir, one file each, for a
// failed run's report; it returns dir, or "" when there was none.
func (e *Env) WriteLogs(dir string) (string, error) {
	logs := map[string]string{}
	for _, n := range e.ComponentNames() {
		if c := e.component(n); c != nil && c.proc != nil {
			logs[c.kind+"-"+n] = c.proc.Tail(1 << 30)
		}
	}
	if e.backend != nil {
		maps.Copy(logs, e.backend.Logs())
	}
	if len(logs) == 0 {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, text := range logs {
		file := strings.NewReplacer("/", "_", " ", "_", ">", "", ":", "_").Replace(name) + ".log"
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
