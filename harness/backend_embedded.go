// backend_embedded.go holds the embedded backend: each site's Kafka is a
// kfake cluster in this process, and registries, InfluxDB (influxd on the
// host) and binaries are the host's, as on the process backend
// (hostBackend).

package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/kfault"
	"github.com/lsst-ts/teststand/registry"
)

func init() {
	RegisterBackend(Embedded, func(e *Env, opts UpOptions) Backend {
		return &embeddedBackend{hostBackend: hostBackend{e: e, opts: opts}, kafka: map[string]*kfake.Cluster{}}
	})
}

// embeddedBackend runs each site's Kafka as a kfake cluster.
type embeddedBackend struct {
	hostBackend
	kafka map[string]*kfake.Cluster

	mu           sync.Mutex
	commitFaults map[string]*kfault.CommitFault
}

// StartKafka starts each site's kfake cluster.
func (b *embeddedBackend) StartKafka(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range b.e.Stand.SiteNames() {
		spec := b.e.Stand.Sites[name].Kafka
		kopts := []kfake.Opt{kfake.NumBrokers(spec.Brokers)}
		if spec.AutoCreateTopics {
			kopts = append(kopts, kfake.AllowAutoTopicCreation())
		}
		c, err := kfake.NewCluster(kopts...)
		if err != nil {
			return nil, fmt.Errorf("site %s: kafka: %w", name, err)
		}
		if spec.AutoCreateTopics {
			kfault.AutoCreateLikeKafka(c)
		}
		b.kafka[name] = c
		if err := wait.ForKafkaMetadata(c.ListenAddrs(), spec.Brokers).WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: %w", name, err)
		}
		out[name] = c.ListenAddrs()
	}
	return out, nil
}

// FailCommits makes the site's kfake refuse (or accept again) consumer
// group offset commits: a replicator copies records but cannot record
// its progress, so a restarted one copies them again.
func (b *embeddedBackend) FailCommits(site string, fail bool) error {
	c := b.kafka[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.commitFaults == nil {
		b.commitFaults = map[string]*kfault.CommitFault{}
	}
	f := b.commitFaults[site]
	if f == nil {
		f = kfault.FailOffsetCommits(c)
		b.commitFaults[site] = f
	}
	f.Set(fail)
	return nil
}

// StartMirrorMaker: MirrorMaker 2 needs real Kafka (stand validation
// says so first).
func (b *embeddedBackend) StartMirrorMaker(context.Context, []*FlowSpec) (*component, error) {
	return nil, fmt.Errorf("mirrormaker2: the %s backend has no real Kafka for it (backend process or containers has)", b.e.Stand.Backend)
}

// Versions names kfake, the project's registry and the host's influxd.
func (b *embeddedBackend) Versions() map[string]string {
	out := b.hostBackend.Versions()
	out["kafka"] = "kfake (franz-go)"
	return out
}

// Close closes the clusters, then what the host runs.
func (b *embeddedBackend) Close(ctx context.Context) error {
	for _, c := range b.kafka {
		c.Close()
	}
	return b.hostBackend.Close(ctx)
}

// hostBackend is what the embedded and process backends share: registries
// in this process, InfluxDB as an influxd on the host (one the run shares,
// or the stand's own), and binaries as host processes.
type hostBackend struct {
	e         *Env
	opts      UpOptions
	ownInflux []*influxd.Server
}

// StartRegistry starts the project's registry in this process on the
// site's Kafka.
func (b *hostBackend) StartRegistry(ctx context.Context, r RegistryRequest) (*registry.Server, string, error) {
	what := "registry"
	if r.Alias != "" {
		what = "remote registry for " + r.Alias
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	srv, err := registry.Start(rctx, registry.Config{
		Brokers: b.e.Sites[r.Site].Brokers, Topic: r.Topic, ReadOnly: r.ReadOnly, Addr: r.Addr,
		Logger: b.e.log.With("component", what+"@"+r.Site),
	})
	if err != nil {
		return nil, "", fmt.Errorf("site %s: %s on %s: %w", r.Site, what, r.Topic, err)
	}
	return srv, srv.URL(), nil
}

// StartInfluxDB gives the site the run's shared influxd of the spec's
// major version, else one of the stand's own.
func (b *hostBackend) StartInfluxDB(ctx context.Context, site string, spec *InfluxSpec) (SiteInflux, error) {
	srv := b.opts.Influx
	if spec.Major() == 2 {
		srv = b.opts.Influx2
	}
	if srv != nil {
		return SiteInflux{Client: srv.Client(), Shared: true}, nil
	}
	srv, err := startInflux(ctx, spec.Major(), b.opts.Influxd)
	if err != nil {
		return SiteInflux{}, fmt.Errorf("site %s: %w", site, err)
	}
	b.ownInflux = append(b.ownInflux, srv)
	return SiteInflux{Client: srv.Client()}, nil
}

// Run starts a binary on the host; run "container" needs the containers
// backend.
func (b *hostBackend) Run(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error) {
	if run == Container {
		return nil, fmt.Errorf("run container: %s (this stand: %s)", stand.InContainersOnly, b.e.Stand.Backend)
	}
	return startHostRunner(ctx, name, binary, args, env)
}

// Logs: a host backend's processes are the stand's components.
func (b *hostBackend) Logs() map[string]string { return map[string]string{} }

// Versions names the project's registry and the influxd versions the
// stand's sites run.
func (b *hostBackend) Versions() map[string]string {
	out := map[string]string{"registry": "teststand"}
	for _, site := range b.e.Stand.Sites {
		if site.InfluxDB == nil {
			continue
		}
		if site.InfluxDB.Major() == 2 {
			out["influxd2"] = influxd.Version2
		} else {
			out["influxd"] = influxd.Version
		}
	}
	return out
}

// Close stops the influxd servers the stand started.
func (b *hostBackend) Close(context.Context) error {
	var errs []error
	for _, s := range b.ownInflux {
		errs = append(errs, s.Stop())
	}
	return errors.Join(errs...)
}
