package containers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/registry"
)

// The containers backend: each site's Kafka, registry and InfluxDB run as
// containers on a network of the stand's, MirrorMaker 2 from the Kafka
// image, and components with run "container" in the components image.

func init() {
	backend.Register(stand.Containers, func(h backend.Host, _ backend.Options) backend.Backend {
		var spec stand.ContainersSpec
		if c := h.Stand().Containers; c != nil {
			spec = *c
		}
		return &Backend{h: h, spec: spec, images: Images(spec.Images, spec.Prefix),
			kafka: map[string]*KafkaSite{}, byName: map[string]*Container{}}
	})
}

// containerBackend is what the containers backend runs for a stand.
type Backend struct {
	h      backend.Host
	spec   stand.ContainersSpec
	stand  *Stand
	images map[string]string
	kafka  map[string]*KafkaSite
	mu     sync.Mutex
	// byName are the site services' containers: "kafka@usdf",
	// "registry@usdf", "influxdb@usdf".
	byName map[string]*Container
}

func (b *Backend) add(c *Container) {
	b.mu.Lock()
	b.byName[c.Name] = c
	b.mu.Unlock()
}

// StartKafka brings up the stand's network and every site's Kafka (all
// at once), after checking that each image the stand needs is there.
func (b *Backend) StartKafka(ctx context.Context) (map[string][]string, error) {
	if err := Prepare(ctx); err != nil {
		return nil, err
	}
	need := []string{b.images[Kafka]}
	for _, s := range b.h.Stand().Sites {
		if s.Registry != nil {
			need = append(need, b.images[Registry])
		}
		if s.InfluxDB != nil {
			need = append(need, b.images[InfluxDB])
		}
	}
	if err := CheckImages(ctx, dedupe(need)...); err != nil {
		return nil, err
	}
	cs, err := NewStand(ctx, b.spec.Timeout.Duration)
	if err != nil {
		return nil, err
	}
	b.stand = cs
	names := b.h.Stand().SiteNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			k, err := cs.StartKafka(ctx, name, b.images[Kafka], b.h.Stand().Sites[name].Kafka.AutoCreateTopics)
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
func (b *Backend) StartRegistry(ctx context.Context, r backend.RegistryRequest) (*registry.Server, string, error) {
	image := b.images[Registry]
	var entrypoint []string
	if image == b.images[Components] { // the project's registry binary in the components image
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
func (b *Backend) StartInfluxDB(ctx context.Context, site string, _ *stand.InfluxSpec) (backend.SiteInflux, error) {
	c, url, err := b.stand.StartInfluxDB(ctx, site+"-influxdb", b.images[InfluxDB])
	if err != nil {
		return backend.SiteInflux{}, fmt.Errorf("site %s: %w", site, err)
	}
	b.add(c)
	return backend.SiteInflux{Client: &influxd.Client{URL: url}}, nil
}

// StartMirrorMaker runs MirrorMaker 2 from the Kafka image, the clusters
// by their in-network addresses, and stops it like a process.
func (b *Backend) StartMirrorMaker(ctx context.Context, flows []*stand.FlowSpec) (backend.MirrorMaker, error) {
	brokers := map[string][]string{}
	for name, k := range b.kafka {
		brokers[name] = []string{k.InNetwork}
	}
	c, err := b.stand.StartMirrorMaker(ctx, b.images[Kafka], b.h.Stand().MirrorMakerProperties(brokers))
	if err != nil {
		return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: %w", err)
	}
	p := watched(c)
	if err := backend.WaitHeartbeats(ctx, b.h, flows, p.Alive); err != nil {
		_ = c.C.Terminate(context.WithoutCancel(ctx))
		return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2 did not start: %w\n%s", err, p.Tail(4000))
	}
	return backend.MirrorMaker{
		Process: p,
		Settle: func(ctx context.Context) error {
			if err := b.h.WaitReplicas(ctx, flows, p.Alive); err != nil {
				return fmt.Errorf("mirrormaker2: %w\n%s", err, p.Tail(4000))
			}
			return nil
		},
	}, nil
}

// Run starts one of the project's binaries: with run "container" in a
// container of the components image (host networking, the stand's temp
// dir mounted, so the same arguments serve), else on the host.
func (b *Backend) Run(ctx context.Context, name, binary string, args, env []string, run stand.RunMode) (backend.Process, error) {
	if run != stand.Container {
		return host.Run(ctx, name, binary, args, env)
	}
	root := host.ModuleRoot()
	if root == "" {
		return nil, fmt.Errorf("run container: the module root (the components image's build context) is not found from here")
	}
	dirs := []string{b.h.TempDir()}
	if d := b.h.Stand().InterfacesDir(); d != "" {
		dirs = append(dirs, d)
	}
	return b.stand.RunComponent(ctx, name, root, binary, args, env, dirs...)
}

// Logs are the output of the stand's containers, by name.
func (b *Backend) Logs() map[string]string {
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
func (b *Backend) Versions() map[string]string {
	im := b.images
	return map[string]string{"kafka": "container " + im[Kafka], "registry": "container " + im[Registry], "influxd": "container " + im[InfluxDB]}
}

// Close removes the stand's containers and network.
func (b *Backend) Close(ctx context.Context) error {
	if b.stand == nil {
		return nil
	}
	return b.stand.Terminate(ctx)
}

// ContainerAction pauses, unpauses, stops, starts, disconnects or
// reconnects a site's Kafka, registry or InfluxDB container.
func (b *Backend) ContainerAction(ctx context.Context, service, site, action string) error {
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
