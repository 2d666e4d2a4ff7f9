// containers_backend.go holds the containers backend: each site's Kafka,
// registry and InfluxDB run as containers on a network of the stand's,
// MirrorMaker 2 from the Kafka image, and components with run "container"
// in the components image.

package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/containers"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/registry"
)

func init() {
	RegisterBackend(Containers, func(e *Env, _ UpOptions) Backend {
		var spec ContainersSpec
		if e.Stand.Containers != nil {
			spec = *e.Stand.Containers
		}
		return &containerBackend{e: e, spec: spec, images: containers.Images(spec.Images, spec.Prefix),
			kafka: map[string]*containers.KafkaSite{}, byName: map[string]*containers.Container{}}
	})
}

// containerBackend is what the containers backend runs for a stand.
type containerBackend struct {
	e      *Env
	spec   ContainersSpec
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

// StartKafka brings up the stand's network and every site's Kafka (all
// at once), after checking that each image the stand needs is there.
func (b *containerBackend) StartKafka(ctx context.Context) (map[string][]string, error) {
	if err := containers.Prepare(ctx); err != nil {
		return nil, err
	}
	need := []string{b.images[containers.Kafka]}
	for _, s := range b.e.Stand.Sites {
		if s.Registry != nil {
			need = append(need, b.images[containers.Registry])
		}
		if s.InfluxDB != nil {
			need = append(need, b.images[containers.InfluxDB])
		}
	}
	if err := containers.CheckImages(ctx, dedupe(need)...); err != nil {
		return nil, err
	}
	cs, err := containers.NewStand(ctx, b.spec.Timeout.Duration)
	if err != nil {
		return nil, err
	}
	b.stand = cs
	names := b.e.Stand.SiteNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			k, err := cs.StartKafka(ctx, name, b.images[containers.Kafka], b.e.Stand.Sites[name].Kafka.AutoCreateTopics)
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
			return nil, fmt.Errorf("site %s: %w", names[i], err)
		}
	}
	out := map[string][]string{}
	for _, name := range names {
		out[name] = b.kafka[name].Brokers
	}
	return out, nil
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

// StartRegistry runs a site's registry as a container on the site's
// Kafka (its in-network listener).
func (b *containerBackend) StartRegistry(ctx context.Context, r RegistryRequest) (*registry.Server, string, error) {
	image := b.images[containers.Registry]
	var entrypoint []string
	if image == b.images[containers.Components] { // the project's registry binary in the components image
		entrypoint = []string{"/usr/local/bin/registry"}
	}
	name := r.Site + "-registry"
	if r.Alias != "" {
		name = r.Site + "-registry-" + r.Alias
	}
	c, url, err := b.stand.StartRegistry(ctx, name, image, b.kafka[r.Site], r.Topic, r.ReadOnly, entrypoint...)
	if err != nil {
		return nil, "", fmt.Errorf("site %s: %w", r.Site, err)
	}
	b.add(c)
	return nil, url, nil
}

// StartInfluxDB runs a site's InfluxDB as a container.
func (b *containerBackend) StartInfluxDB(ctx context.Context, site string, _ *InfluxSpec) (SiteInflux, error) {
	c, url, err := b.stand.StartInfluxDB(ctx, site+"-influxdb", b.images[containers.InfluxDB])
	if err != nil {
		return SiteInflux{}, fmt.Errorf("site %s: %w", site, err)
	}
	b.add(c)
	return SiteInflux{Client: &influxd.Client{URL: url}}, nil
}

// StartMirrorMaker runs MirrorMaker 2 from the Kafka image, the clusters
// by their in-network addresses.
func (b *containerBackend) StartMirrorMaker(ctx context.Context, flows []*FlowSpec) (*component, error) {
	e := b.e
	brokers := map[string][]string{}
	for name, k := range b.kafka {
		brokers[name] = []string{k.InNetwork}
	}
	c, err := b.stand.StartMirrorMaker(ctx, b.images[containers.Kafka], e.Stand.MirrorMakerProperties(brokers))
	if err != nil {
		return nil, fmt.Errorf("mirrormaker2: %w", err)
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
			return nil, fmt.Errorf("mirrormaker2 did not start: %w\n%s", err, proc.Tail(c.Logs(), 4000))
		}
	}
	return comp, nil
}

// Run starts one of the project's binaries: with run "container" in a
// container of the components image (host networking, the stand's temp
// dir mounted, so the same arguments serve), else on the host.
func (b *containerBackend) Run(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error) {
	if run != Container {
		return startHostRunner(ctx, name, binary, args, env)
	}
	root := moduleRoot()
	if root == "" {
		return nil, fmt.Errorf("run container: the module root (the components image's build context) is not found from here")
	}
	dirs := []string{b.e.tmp}
	if d := b.e.Stand.InterfacesDir(); d != "" {
		dirs = append(dirs, d)
	}
	return b.stand.RunComponent(ctx, name, root, binary, args, env, dirs...)
}

// Logs are the output of the stand's containers, by name.
func (b *containerBackend) Logs() map[string]string {
	out := map[string]string{}
	if b.stand == nil {
		return out
	}
	for _, c := range b.stand.Containers() {
		out["container-"+c.Name] = c.Logs()
	}
	return out
}

// Versions names the images the sites run.
func (b *containerBackend) Versions() map[string]string {
	im := b.images
	return map[string]string{"kafka": "container " + im[containers.Kafka], "registry": "container " + im[containers.Registry], "influxd": "container " + im[containers.InfluxDB]}
}

// Close removes the stand's containers and network.
func (b *containerBackend) Close(ctx context.Context) error {
	if b.stand == nil {
		return nil
	}
	return b.stand.Terminate(ctx)
}

// ContainerAction pauses, unpauses, stops, starts, disconnects or
// reconnects a site's Kafka, registry or InfluxDB container.
func (b *containerBackend) ContainerAction(ctx context.Context, service, site, action string) error {
	name := service + "@" + site
	if service == "registry" || service == "influxdb" {
		name = service + "@" + site + "-" + service
	}
	b.mu.Lock()
	c := b.byName[name]
	b.mu.Unlock()
	if c == nil {
		var have []string
		for n := range b.byName {
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
			return wait.ForKafkaMetadata(b.kafka[site].Brokers, 1).WaitUntilReady(ctx)
		}
		return nil
	case "disconnected":
		return c.Disconnect(ctx)
	case "reconnected":
		return c.Reconnect(ctx)
	}
	return fmt.Errorf("unknown container action %q", action)
}

// containerFault acts on a site's container, on a backend that is a
// ContainerActor.
func (st *Steps) containerFault(ctx context.Context, service, site, action string) error {
	a, err := capability[ContainerActor](st.Env, service+" "+action+": container actions")
	if err != nil {
		return err
	}
	return a.ContainerAction(ctx, service, site, action)
}
