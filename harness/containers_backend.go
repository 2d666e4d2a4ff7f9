package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/containers"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
)

// containerBackend is what the containers backend runs for a stand.
type containerBackend struct {
	stand  *containers.Stand
	images map[string]string
	kafka  map[string]*containers.KafkaSite
	mu     sync.Mutex
	// byName are the site services' containers: "kafka@usdf",
	// "registry@usdf", "influxdb@usdf".
	byName map[string]*containers.Container
}

func (b *containerBackend) add(c *containers.Container) {
	b.mu.Lock()
	b.byName[c.Name] = c
	b.mu.Unlock()
}

// startContainers brings up the stand's network and every site's Kafka
// (all at once), after checking that each image the stand needs is there.
func (e *Env) startContainers(ctx context.Context) error {
	if err := containers.Prepare(ctx); err != nil {
		return err
	}
	var spec ContainersSpec
	if e.Stand.Containers != nil {
		spec = *e.Stand.Containers
	}
	b := &containerBackend{images: containers.Images(spec.Images, spec.Prefix), kafka: map[string]*containers.KafkaSite{}, byName: map[string]*containers.Container{}}
	need := []string{b.images[containers.Kafka]}
	for _, s := range e.Stand.Sites {
		if s.Registry != nil {
			need = append(need, b.images[containers.Registry])
		}
		if s.InfluxDB != nil {
			need = append(need, b.images[containers.InfluxDB])
		}
	}
	if err := containers.CheckImages(ctx, dedupe(need)...); err != nil {
		return err
	}
	cs, err := containers.NewStand(ctx, spec.Timeout.Duration)
	if err != nil {
		return err
	}
	b.stand, e.containers = cs, b
	names := e.Stand.SiteNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			k, err := cs.StartKafka(ctx, name, b.images[containers.Kafka], e.Stand.Sites[name].Kafka.AutoCreateTopics)
			if err != nil {
				errs[i] = fmt.Errorf("site %s: %w", name, err)
				return
			}
			b.add(k.Container)
			errs[i] = wait.ForKafkaMetadata(k.Brokers, 1).WaitUntilReady(ctx)
			b.mu.Lock()
			b.kafka[name] = k
			b.mu.Unlock()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("site %s: %w", names[i], err)
		}
	}
	for _, name := range names {
		e.Sites[name] = newSiteEnv(name, b.kafka[name].Brokers)
	}
	return nil
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// startContainerRegistry runs a site's registry as a container on the
// site's Kafka (its in-network listener).
func (e *Env) startContainerRegistry(ctx context.Context, site, alias, topic string, readOnly bool) (string, error) {
	b := e.containers
	image := b.images[containers.Registry]
	var entrypoint []string
	if image == b.images[containers.Components] { // the project's registry binary in the components image
		entrypoint = []string{"/usr/local/bin/registry"}
	}
	name := site + "-registry"
	if alias != "" {
		name = site + "-registry-" + alias
	}
	c, url, err := b.stand.StartRegistry(ctx, name, image, b.kafka[site], topic, readOnly, entrypoint...)
	if err != nil {
		return "", fmt.Errorf("site %s: %w", site, err)
	}
	b.add(c)
	return url, nil
}

// startContainerInflux runs a site's InfluxDB as a container.
func (e *Env) startContainerInflux(ctx context.Context, site string) (string, error) {
	b := e.containers
	c, url, err := b.stand.StartInfluxDB(ctx, site+"-influxdb", b.images[containers.InfluxDB])
	if err != nil {
		return "", fmt.Errorf("site %s: %w", site, err)
	}
	b.add(c)
	return url, nil
}

// startContainerMirrorMaker runs MirrorMaker 2 from the Kafka image, the
// clusters by their in-network addresses.
func (e *Env) startContainerMirrorMaker(ctx context.Context, flows []*FlowSpec) error {
	b := e.containers
	brokers := map[string][]string{}
	for name, k := range b.kafka {
		brokers[name] = []string{k.InNetwork}
	}
	c, err := b.stand.StartMirrorMaker(ctx, b.images[containers.Kafka], e.Stand.MirrorMakerProperties(brokers))
	if err != nil {
		return fmt.Errorf("mirrormaker2: %w", err)
	}
	done := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = c.C.Terminate(context.Background())
			close(done)
		})
	}
	alive := func() error {
		select {
		case <-done:
			return fmt.Errorf("mirrormaker2 container stopped")
		default:
		}
		if !c.C.IsRunning() {
			return fmt.Errorf("mirrormaker2 container exited\n%s", proc.Tail(c.Logs(), 3000))
		}
		return nil
	}
	comp := &component{name: mirrorMakerName, kind: "replication", done: done, cancel: stop}
	comp.settle = func(ctx context.Context) error {
		if err := e.waitReplicas(ctx, flows, alive); err != nil {
			return fmt.Errorf("mirrormaker2: %w\n%s", err, proc.Tail(c.Logs(), 4000))
		}
		return nil
	}
	for _, f := range flows {
		if f.Heartbeats != nil && f.Heartbeats.Duration <= 0 {
			continue
		}
		if err := e.waitTopics(ctx, f.Target.Value, []string{"heartbeats"}, 3*time.Minute, alive); err != nil {
			stop()
			return fmt.Errorf("mirrormaker2 did not start: %w\n%s", err, proc.Tail(c.Logs(), 4000))
		}
	}
	e.register(comp)
	return nil
}

// containerLogs are the output of the stand's containers, by name.
func (e *Env) containerLogs() map[string]string {
	out := map[string]string{}
	if e.containers == nil {
		return out
	}
	for _, c := range e.containers.stand.Containers() {
		out["container-"+c.Name] = c.Logs()
	}
	return out
}

// containerFault pauses, unpauses, stops, starts, disconnects or
// reconnects a site's Kafka, registry or InfluxDB container.
func (e *Env) containerFault(ctx context.Context, service, site, action string) error {
	if e.containers == nil {
		return fmt.Errorf("%s %s: only the containers backend runs sites as containers (this stand: %s)", service, action, e.Stand.Backend)
	}
	name := service + "@" + site
	if service == "registry" || service == "influxdb" {
		name = service + "@" + site + "-" + service
	}
	e.containers.mu.Lock()
	c := e.containers.byName[name]
	e.containers.mu.Unlock()
	if c == nil {
		var have []string
		for n := range e.containers.byName {
			have = append(have, n)
		}
		sort.Strings(have)
		return fmt.Errorf("no %s container at %q (have %s)", service, site, strings.Join(have, ", "))
	}
	switch action {
	case "paused":
		return c.Pause(ctx)
	case "unpaused":
		return c.Unpause(ctx)
	case "stopped":
		return c.Stop(ctx)
	case "started":
		if err := c.Start(ctx); err != nil {
			return err
		}
		if service == "kafka" {
			return wait.ForKafkaMetadata(e.containers.kafka[site].Brokers, 1).WaitUntilReady(ctx)
		}
		return nil
	case "disconnected":
		return c.Disconnect(ctx)
	case "reconnected":
		return c.Reconnect(ctx)
	}
	return fmt.Errorf("unknown container action %q", action)
}

func (st *Steps) containerFault(ctx context.Context, service, site, action string) error {
	return st.Env.containerFault(ctx, service, site, action)
}
