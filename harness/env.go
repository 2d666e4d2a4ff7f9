// env.go holds the running stand, Env and SiteEnv, and Up's phases in
// their order, each delegating to the file of its concern, and Down.

package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/netfault"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/replication"
)

// Env is a running stand: its sites, the DDS bus and its components.
type Env struct {
	Stand *Stand
	Bus   *dds.Bus
	Sites map[string]*SiteEnv
	// BootTime is how long Up took.
	BootTime time.Duration

	// DDSBasePort is the stand's own base port of the cross-process DDS
	// bus, so that stands on one machine never share a domain.
	DDSBasePort int

	log *slog.Logger
	// net is the stand's network fault layer (nil on a backend whose
	// parts do not talk over loopback).
	net *netfault.Layer
	// sec are a secured stand's secrets for this run (nil when open).
	sec     *standsec.Secrets
	linksMu sync.Mutex         // held while a domain is joined: not mu, a join may wait
	links   map[int]dds.Domain // joined domains, by id (under linksMu)
	// claimed are the domains whose port of DDSBasePort the stand claimed
	// (under linksMu).
	claimed    map[int]bool
	tmp        string
	mu         sync.Mutex
	components map[string]*component
	order      []string
	// backend runs the sites' Kafka, registries and InfluxDB (see
	// Backend).
	backend backend.Backend
	// mirrorMetrics are all flows' replication metrics.
	mirrorMetrics *replication.Metrics
	// standPrefix names the stand's databases when its sites share an
	// influxd with other stands of the run (see SiteEnv.dbPrefix).
	standPrefix string
	// written is every traffic the stand's scenarios wrote (see
	// UnexpectedPoints).
	written []*Traffic
	// writers are the started Kafka-era writer groups, by name (under mu).
	writers map[string]*kafkasal.Writer
}

// standSeq numbers stands that share an influxd.
var standSeq atomic.Int64

// Database is the InfluxDB database (or bucket) in which a site's
// database name is stored: the name itself when the site has an InfluxDB
// of its own, "s<stand>_<site>_<name>" when it shares an influxd with
// other sites or stands. Every site is its own world: two sites never
// share a database, so a point one site's sink wrote can never satisfy a
// check of another site's EFD. Every sink, tap and comparison names its
// database through this.
func (e *Env) Database(site, name string) string {
	if se := e.Sites[site]; se != nil {
		return se.dbPrefix + name
	}
	return name
}

// SiteEnv is one running site.
type SiteEnv struct {
	Name    string
	Brokers []string
	// Registry and RegistryURL are the site's registry: its own, or, at a
	// site that has none, its only remote one (what steps naming "the
	// registry at" a site mean).
	Registry    *registry.Server
	RegistryURL string
	// Remotes and RemoteURLs are the site's remote registries, by
	// source alias.
	Remotes    map[string]*registry.Server
	RemoteURLs map[string]string
	// ownURL is the URL of the site's own registry ("" if it has none).
	ownURL    string
	InfluxURL string
	// InfluxOrg and InfluxToken reach an InfluxDB 2.x; InfluxUser and
	// InfluxPassword an InfluxDB 1.x with authentication on (a secured
	// stand's).
	InfluxOrg, InfluxToken     string
	InfluxUser, InfluxPassword string
	// KafkaOpts are the options the harness's own clients of the site's
	// Kafka take beyond its brokers: a secured site's superuser, over
	// TLS, never through the fault layer.
	KafkaOpts []kgo.Opt
	// Producers are the in-process producers at this site, by name.
	Producers map[string]*producer.Producer
	// dbPrefix is put before the site's database names when its influxd
	// is shared (see Env.Database).
	dbPrefix string
}

// RegistryFor is the URL of the registry a rule names: "local" for the
// site's own, a source alias for its remote registry.
func (se *SiteEnv) RegistryFor(name string) string {
	if name == stand.LocalRegistry {
		return se.ownURL
	}
	return se.RemoteURLs[name]
}

// Influx is a client of the site's InfluxDB with its credentials.
func (se *SiteEnv) Influx() *influxd.Client {
	return &influxd.Client{URL: se.InfluxURL, Org: se.InfluxOrg, Token: se.InfluxToken, Username: se.InfluxUser, Password: se.InfluxPassword}
}

// UpOptions adjust how a stand comes up.
type UpOptions struct {
	// Influxd is the influxd 1.x binary; "" finds it (see influxd.Find).
	Influxd string
	// Influx and Influx2 are running influxd servers (1.x, 2.x) the
	// stand's sites share instead of starting one each.
	Influx, Influx2 *influxd.Server
	// Logger receives component logs; nil discards them.
	Logger *slog.Logger
}

// Up brings the stand up on its backend: each site's Kafka (kfake,
// Apache Kafka processes or containers; the running clusters of an
// external stand), registries and InfluxDB, then replication flows, sinks,
// producers, REST proxies, SAL transforms and traffic, each waited for. On
// error everything already started is torn down.
func Up(ctx context.Context, st *Stand, opts UpOptions) (_ *Env, err error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e := &Env{Stand: st, Bus: dds.NewBus(), Sites: map[string]*SiteEnv{}, components: map[string]*component{}, log: log, mirrorMetrics: replication.NewMetrics()}
	defer func() {
		if err != nil {
			e.Down(context.WithoutCancel(ctx))
		}
	}()
	if e.backend, err = newBackend(e, opts); err != nil {
		return nil, err
	}
	if e.tmp, err = os.MkdirTemp("", "teststand-stand-"); err != nil {
		return nil, err
	}
	e.startNetwork()
	if err := e.makeSecrets(); err != nil {
		return nil, err
	}
	// The phases in order: each needs what the ones before started.
	phases := []struct {
		what  string
		start func(context.Context) error
	}{
		{"clusters", e.startClusters},
		{"sites", e.startSites},
		{"registries", e.startRegistries},
		{"replication", e.startReplication},
		{"remote registries", e.startRemoteRegistries},
		{"sinks", e.startConsumers},
		{"producers", e.startProducers},
		{"writers", e.startWriters},
		{"traffic", e.startStanding},
		{"settle", e.settle},
	}
	last := start
	for _, p := range phases {
		if err := p.start(ctx); err != nil {
			return nil, err
		}
		log.Debug("stand: "+p.what, "took", time.Since(last))
		last = time.Now()
	}
	e.BootTime = time.Since(start)
	log.Debug("stand up", "stand", st.File, "boot", e.BootTime)
	return e, nil
}

// startReplication starts the stand's own flows, MirrorMaker 2 for its
// mirrormaker2 flows, and the heartbeats.
func (e *Env) startReplication(ctx context.Context) error {
	for _, f := range e.Stand.Replication {
		if f.Run == ExternalRun || f.Run == MirrorMaker2 {
			continue // the deployment's own; MirrorMaker 2's below
		}
		if err := e.restartable(ctx, f.Name, func(ctx context.Context) error { return e.startFlow(ctx, f) }); err != nil {
			return err
		}
	}
	if err := e.restartable(ctx, mirrorMakerName, e.startMirrorMaker); err != nil {
		return err
	}
	if e.deployment() {
		return nil // the deployment's replicator emits its own heartbeats
	}
	for _, h := range e.Stand.Heartbeats {
		if err := e.startHeartbeats(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// startConsumers starts the REST proxies, SAL transforms and sinks but
// Telegraf's (see settle).
func (e *Env) startConsumers(ctx context.Context) error {
	for _, r := range e.Stand.RestProxies {
		if err := e.startRestProxy(ctx, r); err != nil {
			return err
		}
	}
	for _, x := range e.Stand.SalTransforms {
		if err := e.startSalTransform(ctx, x); err != nil {
			return err
		}
	}
	for _, k := range e.Stand.Sinks {
		if k.Run == ExternalRun || k.Run == Telegraf {
			continue // the deployment's own; Telegraf's once topics exist
		}
		if err := e.restartable(ctx, k.Name, func(ctx context.Context) error { return e.startSink(ctx, k) }); err != nil {
			return err
		}
	}
	return nil
}

// startProducers joins the DDS domains and starts the producers.
func (e *Env) startProducers(ctx context.Context) error {
	if err := e.joinDomains(ctx); err != nil {
		return err
	}
	for _, p := range e.Stand.Producers {
		if err := e.restartable(ctx, p.Name, func(ctx context.Context) error { return e.startProducer(ctx, p) }); err != nil {
			return err
		}
	}
	return nil
}

// startStanding sets the stand's standing faults and starts its
// background traffic.
func (e *Env) startStanding(ctx context.Context) error {
	if err := e.setStandingFaults(); err != nil {
		return err
	}
	for i, t := range e.Stand.Traffic {
		start := e.startTraffic
		switch t.Kind {
		case "rest":
			start = func(ctx context.Context, _ int, t *TrafficSpec) error { return e.startRestTraffic(ctx, t) }
		case "protobuf":
			start = func(ctx context.Context, _ int, t *TrafficSpec) error { return e.startEventTraffic(ctx, t) }
		}
		if err := start(ctx, i, t); err != nil {
			return err
		}
	}
	return nil
}

// settle makes replication flows, then sinks, take up the topics the
// producers just created, so that the first samples of a scenario do not
// wait for a periodic discovery; then it starts Telegraf's sinks, which
// match topics only when they start.
func (e *Env) settle(ctx context.Context) error {
	for _, kind := range []string{"replication", "sink"} {
		for _, n := range e.order {
			if c := e.components[n]; c.kind == kind && c.settle != nil {
				if err := c.settle(ctx); err != nil {
					return fmt.Errorf("%s %s: %w", kind, n, err)
				}
			}
		}
	}
	for _, k := range e.Stand.Sinks {
		if k.Run == Telegraf {
			if err := e.restartable(ctx, k.Name, func(ctx context.Context) error { return e.startSink(ctx, k) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// Down stops components in reverse start order, then registries, drops
// the stand's databases from a shared influxd, and closes the backend
// (its clusters, influxd servers, containers).
func (e *Env) Down(ctx context.Context) error {
	e.closeWriters(ctx)
	e.mu.Lock()
	order := append([]string(nil), e.order...)
	e.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		_ = e.Stop(order[i])
	}
	e.linksMu.Lock()
	links := e.links
	e.links = nil
	e.linksMu.Unlock()
	for _, l := range links {
		l.Close()
	}
	if e.net != nil {
		e.net.Close()
	}
	e.Bus.Close()
	var errs []error
	if e.tmp != "" {
		errs = append(errs, os.RemoveAll(e.tmp))
	}
	for _, se := range e.Sites {
		if se.Registry != nil {
			errs = append(errs, se.Registry.Close())
		}
		for _, r := range se.Remotes {
			if r != nil && r != se.Registry {
				errs = append(errs, r.Close())
			}
		}
	}
	for name, spec := range e.Stand.Sites { // a shared influxd: leave it as found
		if se := e.Sites[name]; spec.InfluxDB != nil && se != nil && se.InfluxURL != "" && se.dbPrefix != "" {
			ic := se.Influx()
			for _, d := range spec.InfluxDB.Names() {
				errs = append(errs, ic.DropDatabase(ctx, e.Database(name, d)))
			}
		}
	}
	if e.backend != nil {
		errs = append(errs, e.backend.Close(ctx))
	}
	return errors.Join(errs...)
}
