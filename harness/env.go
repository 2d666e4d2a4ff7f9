package harness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/kafkaproc"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kfault"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sink"
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

	log        *slog.Logger
	links      []*dds.Link
	tmp        string
	mu         sync.Mutex
	components map[string]*component
	order      []string
	ownInflux  []*influxd.Server
	// mirrorMetrics are all flows' replication metrics.
	mirrorMetrics *replication.Metrics
	// standPrefix names the stand's databases when its sites share an
	// influxd with other stands of the run (see SiteEnv.dbPrefix).
	standPrefix string
	// containers is what the containers backend runs.
	containers *containerBackend
	// written is every traffic the stand's scenarios wrote (see
	// UnexpectedPoints).
	written []*Traffic
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
	Name  string
	Kafka *kfake.Cluster
	// Apache is the site's real Kafka (backend process).
	Apache  *kafkaproc.Cluster
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
	// InfluxOrg and InfluxToken reach an InfluxDB 2.x.
	InfluxOrg, InfluxToken string
	// Producers are the in-process producers at this site, by name.
	Producers map[string]*producer.Producer

	commitFaults sync.Once
	commitFault  *kfault.CommitFault
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
	return &influxd.Client{URL: se.InfluxURL, Org: se.InfluxOrg, Token: se.InfluxToken}
}

// connectSite waits for a running site (backend external): its Kafka
// answers metadata, its registry answers, its InfluxDB answers /ping and
// has the stand's databases. Nothing is created there.
func connectSite(ctx context.Context, name string, spec *Site) (*SiteEnv, error) {
	se := newSiteEnv(name, cli.List(spec.Kafka.Bootstrap))
	wk := wait.ForKafkaMetadata(se.Brokers, 1)
	wk.Timeout = 30 * time.Second
	if err := wk.WaitUntilReady(ctx); err != nil {
		return nil, fmt.Errorf("site %s: kafka %s: %w", name, spec.Kafka.Bootstrap, err)
	}
	if spec.Registry != nil {
		se.ownURL = strings.TrimRight(spec.Registry.URL, "/")
		if err := wait.ForHTTP(se.ownURL + "/subjects").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: registry: %w", name, err)
		}
		se.RegistryURL = se.ownURL
	}
	for _, r := range spec.RemoteRegistries {
		url := strings.TrimRight(r.URL, "/")
		if err := wait.ForHTTP(url + "/subjects").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: remote registry for %s: %w", name, r.Alias.Value, err)
		}
		se.RemoteURLs[r.Alias.Value] = url
		if se.RegistryURL == "" {
			se.RegistryURL = url
		}
	}
	if spec.InfluxDB != nil {
		se.InfluxURL = strings.TrimRight(spec.InfluxDB.URL, "/")
		if spec.InfluxDB.Major() == 2 {
			se.InfluxOrg, se.InfluxToken = spec.InfluxDB.Org, spec.InfluxDB.Token
		}
		if err := wait.ForHTTP(se.InfluxURL + "/ping").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: influxdb: %w", name, err)
		}
		have, err := se.Influx().Databases(ctx)
		if err != nil {
			return nil, fmt.Errorf("site %s: influxdb: %w", name, err)
		}
		for _, db := range spec.InfluxDB.Names() {
			if !slices.Contains(have, db) {
				return nil, fmt.Errorf("site %s: influxdb %s has no database or bucket %q (an external stand creates none)", name, se.InfluxURL, db)
			}
		}
	}
	return se, nil
}

// FailCommits makes the site's cluster refuse (or accept again) consumer
// group offset commits, as an unreachable group coordinator would: a
// replicator copies records but cannot record its progress, so a
// restarted one copies them again.
func (se *SiteEnv) FailCommits(fail bool) error {
	if se.Kafka == nil {
		return fmt.Errorf("site %s: commit faults need the embedded backend's Kafka", se.Name)
	}
	se.commitFaults.Do(func() { se.commitFault = kfault.FailOffsetCommits(se.Kafka) })
	se.commitFault.Set(fail)
	return nil
}

// runner is a component running outside the harness's process: a binary
// (proc.Process) or one in a container (containers.Process).
type runner interface {
	Done() <-chan struct{}
	Stop(grace time.Duration) error
	Kill()
	Alive() error
	Tail(n int) string
}

// component is one component of the stand with its own lifetime: in
// process (cancel, done), or a binary or container (proc).
type component struct {
	name, kind string
	proc       runner              // for components run as binaries or containers
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
	// slow, when set, delays the component's writes (a slow link).
	slow func(time.Duration)
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
	if e.tmp, err = os.MkdirTemp("", "teststand-stand-"); err != nil {
		return nil, err
	}
	// The phases in order: each needs what the ones before started.
	phases := []struct {
		what  string
		start func(context.Context) error
	}{
		{"clusters", e.startClusters},
		{"sites", func(ctx context.Context) error { return e.startSites(ctx, opts) }},
		{"registries", e.startRegistries},
		{"replication", e.startReplication},
		{"remote registries", e.startRemoteRegistries},
		{"sinks", e.startConsumers},
		{"producers", e.startProducers},
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

// startClusters starts the clusters of a backend that runs them apart
// from the sites (Apache Kafka processes, containers), all at once.
func (e *Env) startClusters(ctx context.Context) error {
	switch e.Stand.Backend {
	case Process:
		return e.startApacheKafka(ctx)
	case Containers:
		return e.startContainers(ctx)
	}
	return nil
}

// startSites brings up each site's Kafka (embedded) and InfluxDB, or
// connects to a running site (external).
func (e *Env) startSites(ctx context.Context, opts UpOptions) error {
	for _, name := range e.Stand.SiteNames() {
		spec := e.Stand.Sites[name]
		if e.Stand.Backend == External {
			se, err := connectSite(ctx, name, spec)
			if err != nil {
				return err
			}
			e.Sites[name] = se
			continue
		}
		if e.Stand.Backend == Embedded { // the other backends' clusters are up already
			if err := e.startEmbeddedKafka(ctx, name, spec.Kafka); err != nil {
				return err
			}
		}
		if spec.InfluxDB == nil {
			continue
		}
		if err := e.startSiteInflux(ctx, name, spec.InfluxDB, opts); err != nil {
			return err
		}
	}
	return nil
}

// startEmbeddedKafka starts a site's kfake cluster.
func (e *Env) startEmbeddedKafka(ctx context.Context, name string, spec KafkaSpec) error {
	kopts := []kfake.Opt{kfake.NumBrokers(spec.Brokers)}
	if spec.AutoCreateTopics {
		kopts = append(kopts, kfake.AllowAutoTopicCreation())
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return fmt.Errorf("site %s: kafka: %w", name, err)
	}
	if spec.AutoCreateTopics {
		kfault.AutoCreateLikeKafka(c)
	}
	e.Sites[name] = newSiteEnv(name, c.ListenAddrs())
	e.Sites[name].Kafka = c
	if err := wait.ForKafkaMetadata(c.ListenAddrs(), spec.Brokers).WaitUntilReady(ctx); err != nil {
		return fmt.Errorf("site %s: %w", name, err)
	}
	return nil
}

// startSiteInflux gives a site its InfluxDB with the site's databases: a
// container (containers backend), a shared influxd of the run's, or an
// influxd of the stand's own.
func (e *Env) startSiteInflux(ctx context.Context, name string, spec *InfluxSpec, opts UpOptions) error {
	se := e.Sites[name]
	if e.Stand.Backend == Containers {
		var err error
		if se.InfluxURL, err = e.startContainerInflux(ctx, name); err != nil {
			return err
		}
		for _, db := range spec.Names() {
			if err := se.Influx().CreateDatabase(ctx, db); err != nil {
				return fmt.Errorf("site %s: %w", name, err)
			}
		}
		return nil
	}
	srv, shared := opts.Influx, true
	if spec.Major() == 2 {
		srv = opts.Influx2
	}
	if srv == nil {
		shared = false
		var err error
		if srv, err = startInflux(ctx, spec.Major(), opts.Influxd); err != nil {
			return fmt.Errorf("site %s: %w", name, err)
		}
		e.ownInflux = append(e.ownInflux, srv)
	}
	ic := srv.Client()
	se.InfluxURL, se.InfluxOrg, se.InfluxToken = ic.URL, ic.Org, ic.Token
	if shared {
		if e.standPrefix == "" {
			e.standPrefix = fmt.Sprintf("s%d_", standSeq.Add(1))
		}
		se.dbPrefix = e.standPrefix + name + "_"
	}
	for _, db := range spec.Names() {
		if err := ic.CreateDatabase(ctx, e.Database(name, db)); err != nil {
			return fmt.Errorf("site %s: %w", name, err)
		}
	}
	return nil
}

// startRegistries starts the sites' writable registries, before
// replication: it copies their storage topics.
func (e *Env) startRegistries(ctx context.Context) error {
	if e.Stand.Backend == External {
		return nil // the deployment's
	}
	for _, name := range e.Stand.SiteNames() {
		if e.Stand.Sites[name].Registry == nil {
			continue
		}
		if err := e.startRegistry(ctx, name, "", ""); err != nil {
			return err
		}
	}
	return nil
}

// startReplication starts the stand's own flows, MirrorMaker 2 for its
// mirrormaker2 flows, and the heartbeats.
func (e *Env) startReplication(ctx context.Context) error {
	for _, f := range e.Stand.Replication {
		if f.Run == ExternalRun || f.Run == MirrorMaker2 {
			continue // the deployment's own; MirrorMaker 2's below
		}
		if err := e.startFlow(ctx, f); err != nil {
			return err
		}
	}
	if err := e.startMirrorMaker(ctx); err != nil {
		return err
	}
	if e.Stand.Backend == External {
		return nil // the deployment's replicator emits its own heartbeats
	}
	for _, h := range e.Stand.Heartbeats {
		if err := e.startHeartbeats(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// startRemoteRegistries starts the sites' remote registries, once
// replication brings them their storage topics.
func (e *Env) startRemoteRegistries(ctx context.Context) error {
	if e.Stand.Backend == External {
		return nil
	}
	for _, name := range e.Stand.SiteNames() {
		for _, r := range e.Stand.Sites[name].RemoteRegistries {
			if err := e.startRegistry(ctx, name, r.Alias.Value, ""); err != nil {
				return err
			}
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
		if err := e.startSink(ctx, k); err != nil {
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
		if err := e.startProducer(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// startStanding sets the stand's standing faults and starts its
// background traffic.
func (e *Env) startStanding(ctx context.Context) error {
	for _, f := range e.Stand.Faults {
		if err := e.SlowLink(f.Link.From.Value, f.Link.To.Value, f.Delay.Duration); err != nil {
			return err
		}
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
			if err := e.startSink(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// startRegistry starts a site's own registry (alias "") or its remote
// registry for alias, on addr ("" for a free port).
func (e *Env) startRegistry(ctx context.Context, site, alias, addr string) error {
	topic, readOnly := e.Stand.Sites[site].Registry.StorageTopic(), false
	what := "registry"
	if alias != "" {
		var err error
		if topic, err = e.Stand.RemoteRegistryTopic(site, alias); err != nil {
			return err
		}
		readOnly, what = true, "remote registry for "+alias
	}
	var srv *registry.Server
	var url string
	if e.containers != nil {
		var err error
		if url, err = e.startContainerRegistry(ctx, site, alias, topic, readOnly); err != nil {
			return err
		}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var err error
		srv, err = registry.Start(rctx, registry.Config{
			Brokers: e.Sites[site].Brokers, Topic: topic, ReadOnly: readOnly, Addr: addr,
			Logger: e.log.With("component", what+"@"+site),
		})
		if err != nil {
			return fmt.Errorf("site %s: %s on %s: %w", site, what, topic, err)
		}
		url = srv.URL()
	}
	se := e.Sites[site]
	if alias == "" {
		se.ownURL = url
	} else {
		se.Remotes[alias], se.RemoteURLs[alias] = srv, url
	}
	spec := e.Stand.Sites[site]
	if alias == "" || (spec.Registry == nil && spec.RemoteRegistries[0].Alias.Value == alias) {
		se.Registry, se.RegistryURL = srv, url // the site's registry
	}
	return nil
}

// newSiteEnv is a running site before its parts start.
func newSiteEnv(name string, brokers []string) *SiteEnv {
	return &SiteEnv{Name: name, Brokers: brokers, Producers: map[string]*producer.Producer{},
		Remotes: map[string]*registry.Server{}, RemoteURLs: map[string]string{}}
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

// flows lists the in-process replication flows from one site to another.
func (e *Env) flows(from, to string) ([]string, error) {
	var names []string
	for _, f := range e.Stand.Replication {
		if f.Source.Value != from || f.Target.Value != to || f.Run == ExternalRun {
			continue
		}
		name := f.Name
		if f.Run == MirrorMaker2 {
			name = mirrorMakerName // one process runs all of them
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no replication flow of this stand runs from %s to %s", from, to)
	}
	return names, nil
}

// LinkDown cuts the link from one site to another for d: its replication
// flows stop (as when the network between the sites is down), and start
// again afterwards, continuing from what they committed.
func (e *Env) LinkDown(ctx context.Context, from, to string, d time.Duration) error {
	names, err := e.flows(from, to)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := e.Stop(n); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	for _, n := range names {
		if err := e.Restart(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// SlowLink makes every write over the link from one site to another wait
// d (0 restores it).
func (e *Env) SlowLink(from, to string, d time.Duration) error {
	names, err := e.flows(from, to)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		c := e.components[n]
		if c != nil && c.slow == nil {
			return fmt.Errorf("%s runs outside this process: only the stand's own replicator can be slowed", n)
		}
		if c != nil {
			c.slow(d)
		}
	}
	return nil
}

// StopRegistry stops a site's registry (a registry outage); StartRegistry
// starts it again on the same address, reading its storage topic anew, as
// a restarted pod does. The site's registry is its own, or its only
// remote one.
func (e *Env) StopRegistry(site string) error {
	se := e.Sites[site]
	if se == nil || se.Registry == nil {
		return fmt.Errorf("site %q has no registry this stand runs", site)
	}
	err := se.Registry.Close()
	for alias, r := range se.Remotes {
		if r == se.Registry {
			se.Remotes[alias] = nil
		}
	}
	se.Registry = nil
	return err
}

// StartRegistry starts a stopped registry again; see StopRegistry.
func (e *Env) StartRegistry(ctx context.Context, site string) error {
	se := e.Sites[site]
	if se == nil || se.RegistryURL == "" || e.Stand.Backend == External {
		return fmt.Errorf("site %q has no registry this stand runs", site)
	}
	if se.Registry != nil {
		return fmt.Errorf("the registry at %s is running", site)
	}
	alias := ""
	if se.ownURL != se.RegistryURL {
		for a, u := range se.RemoteURLs {
			if u == se.RegistryURL {
				alias = a
			}
		}
	}
	return e.startRegistry(ctx, site, alias, strings.TrimPrefix(se.RegistryURL, "http://"))
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

func (e *Env) startFlow(ctx context.Context, f *FlowSpec) error {
	src, dst := e.Sites[f.Source.Value], e.Sites[f.Target.Value]
	r, err := replication.New(replication.Config{
		SourceAlias: f.Source.Value, TargetAlias: f.Target.Value,
		SourceBrokers: src.Brokers, TargetBrokers: dst.Brokers,
		Topics: f.Topics, TopicsExclude: f.Exclude,
		Policy: f.Policy, Separator: f.Separator,
		RefreshInterval:     f.Refresh.Duration,
		SyncConfigsInterval: f.SyncConfigs.Duration,
		Metrics:             e.mirrorMetrics,
		Logger:              e.log.With("component", "mirror "+f.Name),
		SourceOpts:          []kgo.Opt{kgo.MetadataMinAge(100 * time.Millisecond)},
	})
	if err != nil {
		return fmt.Errorf("replication %s: %w", f.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{
			"replicated": r.Stats.Replicated.Load(), "topics": r.Stats.Topics.Load(),
			"partitions_added": r.Stats.Partitions.Load(), "configs_synced": r.Stats.Synced.Load(),
		}
	}
	if err := e.startComponent(ctx, f.Name, "replication", stats, r.Refresh, func(ctx context.Context, ready func()) error {
		r.SetReady(ready)
		return r.Run(ctx)
	}, e.mirrorMetrics.Registry()); err != nil {
		return err
	}
	e.mu.Lock()
	e.components[f.Name].slow = r.SetDelay
	e.mu.Unlock()
	return nil
}

// backgroundOrigin is the private_origin of background traffic: no
// scenario's taps count it.
const backgroundOrigin = 2_000_000_000

// startTraffic writes a stand's background load until the stand goes
// down: every topic the profile rates, for the CSCs the domain serves.
func (e *Env) startTraffic(ctx context.Context, i int, t *TrafficSpec) error {
	planned, err := t.LoadedProfile().Resolve(e.Stand.Loaded)
	if err != nil {
		return err
	}
	served := e.Stand.ServedOn(t.Domain)
	scale := t.Scale
	if scale == 0 {
		scale = 1
	}
	var writers []mocksal.WriterConfig
	for _, pl := range planned {
		index, ok := served[pl.Writer.Topic.CSC]
		if !ok {
			continue
		}
		w := pl.Writer
		w.Index, w.Domain, w.RateHz, w.Origin = index, t.Domain, w.RateHz*scale, backgroundOrigin+int32(i)
		w.Count, w.Duration = 0, 100*365*24*time.Hour // until the stand goes down
		writers = append(writers, w)
	}
	var written atomic.Int64
	name := fmt.Sprintf("traffic %s@%d", t.Profile, t.Domain)
	stats := func() map[string]int64 {
		return map[string]int64{"written": written.Load(), "writers": int64(len(writers))}
	}
	return e.startComponent(ctx, name, "traffic", stats, nil, func(ctx context.Context, ready func()) error {
		ready()
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Go(func() {
				_, err := mocksal.Run(ctx, e.Bus, w, func(mocksal.Write) { written.Add(1) })
				if err != nil && ctx.Err() == nil {
					e.log.Warn("background traffic", "topic", w.Topic.Name, "err", err)
				}
			})
		}
		wg.Wait()
		return nil
	}, nil)
}

// startHeartbeats emits MM2-style heartbeats for one pair of sites.
func (e *Env) startHeartbeats(ctx context.Context, h HeartbeatSpec) error {
	name := "heartbeats " + h.Source + "->" + h.Target
	return e.startComponent(ctx, name, "heartbeats", nil, nil, func(ctx context.Context, ready func()) error {
		ready()
		return replication.EmitHeartbeats(ctx, replication.HeartbeatConfig{
			SourceAlias: h.Source, TargetAlias: h.Target, TargetBrokers: e.Sites[h.Target].Brokers,
			Interval: h.Interval, Metrics: e.mirrorMetrics, Logger: e.log.With("component", name),
		})
	}, e.mirrorMetrics.Registry())
}

// Restart starts a stopped replication flow or sink again, as a restarted
// pod would: it continues from the progress it committed.
func (e *Env) Restart(ctx context.Context, name string) error {
	c := e.component(name)
	if c == nil {
		return fmt.Errorf("no component named %q (have %v)", name, e.ComponentNames())
	}
	name = c.name // a flow MirrorMaker 2 runs is MirrorMaker 2
	if e.Running(name) {
		return fmt.Errorf("%s %s is running: stop it first", c.kind, name)
	}
	e.mu.Lock()
	delete(e.components, name)
	e.mu.Unlock()
	// startSettled starts the component again and, where it has one, runs
	// its settling (a flow takes up the topics created meanwhile).
	startSettled := func(start func() error) error {
		if err := start(); err != nil {
			return err
		}
		if settle := e.component(name).settle; settle != nil {
			return settle(ctx)
		}
		return nil
	}
	switch {
	case name == mirrorMakerName:
		return startSettled(func() error { return e.startMirrorMaker(ctx) })
	case c.kind == "replication":
		for _, f := range e.Stand.Replication {
			if f.Name == name {
				return startSettled(func() error { return e.startFlow(ctx, f) })
			}
		}
	case c.kind == "sink":
		for _, k := range e.Stand.Sinks {
			if k.Name == name {
				return startSettled(func() error { return e.startSink(ctx, k) })
			}
		}
	case c.kind == "producer":
		for _, p := range e.Stand.Producers {
			if p.Name == name {
				return e.startProducer(ctx, p)
			}
		}
	}
	return fmt.Errorf("%s %s cannot be restarted (replication flows, sinks and producers can)", c.kind, name)
}

// RestartProducer stops a running producer and starts it again with the
// CSCs added to its list: the summit's documented way of adding a CSC,
// during which nothing reads the producer's DDS domain. A stopped
// producer is only started.
func (e *Env) RestartProducer(ctx context.Context, name string, add ...string) error {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	if e.Running(name) {
		if err := e.Stop(name); err != nil {
			return err
		}
	}
	for _, csc := range add {
		if err := e.Stand.CheckCSC(Ref{Value: csc}, "producer "+strconv.Quote(name)); err != nil {
			return err
		}
	}
	e.served(name, add)
	return e.Restart(ctx, name)
}

func (e *Env) startSink(ctx context.Context, k *SinkSpec) error {
	switch k.Run {
	case Binary, Container:
		return e.startBinarySink(ctx, k)
	case Telegraf:
		return e.startTelegraf(ctx, k)
	}
	se := e.Sites[k.Site.Value]
	rules := slices.Clone(k.CompiledRules())
	for i := range rules {
		rules[i].Database = e.Database(k.Site.Value, rules[i].Database)
		rules[i].Registry = se.RegistryFor(k.RuleRegistries()[i])
	}
	s, err := sink.New(sink.Config{
		Brokers: se.Brokers, Rules: rules, GroupID: k.Group,
		RegistryURL: rules[0].Registry, InfluxURL: se.InfluxURL, Org: se.InfluxOrg, Token: se.InfluxToken,
		MaxBatch: k.MaxBatch, FlushInterval: k.FlushInterval.Duration,
		TopicRefresh: 500 * time.Millisecond,
		Logger:       e.log.With("component", "sink "+k.Name),
		KafkaOpts:    []kgo.Opt{kgo.MetadataMinAge(100 * time.Millisecond)},
	})
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{
			"points": s.Stats.Points.Load(), "decode_errors": s.Stats.DecodeErrors.Load(),
			"rejected": s.Stats.Rejected.Load(), "non_finite": s.Stats.NonFinite.Load(),
			"mismatched": s.Stats.Mismatched.Load(),
		}
	}
	return e.startComponent(ctx, k.Name, "sink", stats, func(context.Context) error { s.Refresh(); return nil }, func(ctx context.Context, ready func()) error {
		ready()
		return s.Run(ctx)
	}, s.Metrics().Registry())
}

// startBinarySink runs the efdsink binary with the sink's rules in a file,
// ready once its metrics endpoint answers.
func (e *Env) startBinarySink(ctx context.Context, k *SinkSpec) error {
	se := e.Sites[k.Site.Value]
	specs := slices.Clone(k.Rules)
	for i := range specs {
		specs[i].Database = e.Database(k.Site.Value, specs[i].Database)
		specs[i].Registry = se.RegistryFor(k.RuleRegistries()[i])
		specs[i].ReplicationSeparator = k.CompiledRules()[i].ReplicationSeparator
	}
	rules, err := yaml.Marshal(map[string]any{"rules": specs})
	if err != nil {
		return err
	}
	rulesFile := filepath.Join(e.tmp, "sink-"+strings.ReplaceAll(k.Name, "/", "_")+"-rules.yaml")
	if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
		return err
	}
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"--brokers", strings.Join(se.Brokers, ","), "--registry", specs[0].Registry, "--influxdb", se.InfluxURL,
		"--rules", rulesFile, "--metrics-addr", metricsAddr, "--topic-refresh", "500ms",
		"--max-batch", fmt.Sprint(cmp.Or(k.MaxBatch, 5000)), "--flush-interval", k.FlushInterval.Duration.String(),
	}
	if k.Group != "" {
		args = append(args, "--group", k.Group)
	}
	var env []string
	if se.InfluxToken != "" {
		args = append(args, "--org", se.InfluxOrg)
		env = append(env, "INFLUXDB_TOKEN="+se.InfluxToken)
	}
	metrics := "http://" + metricsAddr + "/metrics"
	return e.startBinary(ctx, binaryComponent{
		name: k.Name, kind: "sink", binary: "efdsink", args: args, env: env, run: k.Run,
		ready: wait.ForHTTP(metrics).WithTimeout(30 * time.Second), metricsURL: metrics,
	})
}

// joinDomains connects the stand's bus to the cross-process DDS domains
// its producers listen on, on a base port of the stand's own, so that
// binary producers and mocksal processes meet the stand's writers and
// readers there.
func (e *Env) joinDomains(ctx context.Context) error {
	domains := map[int]bool{}
	for _, p := range e.Stand.Producers {
		domains[p.Domain] = true
	}
	base, err := freeBasePort(domains)
	if err != nil {
		return err
	}
	e.DDSBasePort = base
	for d := range domains {
		l, err := dds.Join(ctx, e.Bus, dds.LinkConfig{Domain: d, Interfaces: e.Stand.Loaded, BasePort: base, Logger: e.log.With("component", "dds")})
		if err != nil {
			return err
		}
		e.links = append(e.links, l)
	}
	return nil
}

// AddToProducer hot-adds CSCs to a running producer: through its admin
// API for a binary, directly for an in-process one.
func (e *Env) AddToProducer(ctx context.Context, name string, cscs ...string) error {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	if c.adminURL != "" {
		body, _ := json.Marshal(map[string][]string{"components": cscs})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.adminURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("producer %s: hot add: %w", name, err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("producer %s: hot add %v: %s: %s", name, cscs, resp.Status, bytes.TrimSpace(msg))
		}
		e.served(name, cscs)
		return nil
	}
	for _, se := range e.Sites {
		if p := se.Producers[name]; p != nil {
			if _, err := p.Add(ctx, cscs...); err != nil {
				return err
			}
			e.served(name, cscs)
			return nil
		}
	}
	return fmt.Errorf("producer %s cannot be reached", name)
}

// served records CSCs a producer took up after it started, so that the
// stand knows where their samples go.
func (e *Env) served(name string, cscs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.Stand.Producers {
		if p.Name == name {
			for _, c := range cscs {
				p.CSCs = append(p.CSCs, Ref{Value: c})
			}
		}
	}
}

// ProducerRead is how many samples of csc's topic producer name has read
// from its DDS domain, from its own metrics (in-process counters, or a
// binary's Prometheus endpoint).
func (e *Env) ProducerRead(ctx context.Context, name, csc, topic string) (int64, error) {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return 0, fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	fams, err := e.Metrics(ctx, name)
	if err != nil {
		return 0, err
	}
	return int64(sumValues(fams, "salkafka_samples_read_total", map[string]string{"csc": csc, "topic": topic})), nil
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

// freeBasePort finds a base port whose domain ports are all free. The
// base comes from proc.FreePort, below the kernel's ephemeral range, so
// that no client's outgoing connection takes a domain's port first.
func freeBasePort(domains map[int]bool) (int, error) {
	for range 100 {
		base, err := proc.FreePort()
		if err != nil {
			return 0, err
		}
		ok := true
		for d := range domains {
			port := dds.Port(base, d)
			if port > 65535 {
				ok = false
				break
			}
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
				ok = false
				break
			} else {
				l.Close()
			}
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("no free base port for the DDS domains")
}

// startBinaryProducer runs the salkafka binary with ts_salkafka's command
// line and waits for its readiness semaphore.
func (e *Env) startBinaryProducer(ctx context.Context, p *ProducerSpec) error {
	se := e.Sites[p.Site.Value]
	ready := filepath.Join(e.tmp, "SALKAFKA_PRODUCER_RUNNING_"+strings.ToUpper(p.Name))
	partitions, rf := e.topicDefaults(p)
	mport, err := proc.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", mport)
	aport, err := proc.FreePort()
	if err != nil {
		return err
	}
	adminAddr := fmt.Sprintf("127.0.0.1:%d", aport)
	args := []string{
		"--metrics", metricsAddr, "--admin", adminAddr,
		"--broker", strings.Join(se.Brokers, ","), "--registry", se.RegistryURL,
		"--partitions", fmt.Sprint(partitions), "--replication-factor", fmt.Sprint(rf),
		"--loglevel", "30", "--wait-ack", cmp.Or(p.WaitAck, "1"),
		"--domain", fmt.Sprint(p.Domain), "--partition-prefix", p.PartitionPrefix,
		"--queue-len", fmt.Sprint(cmp.Or(p.QueueLen, 100)), "--subname", cmp.Or(p.Subname, "sal"),
		"--dds-base-port", fmt.Sprint(e.DDSBasePort), "--ready-file", ready,
	}
	for k, v := range e.Stand.Sites[p.Site.Value].Kafka.TopicConfigs {
		args = append(args, "--topic-config", k+"="+v)
	}
	// Always said, "" for the built-in interfaces: the binary must not
	// fall back to a TS_XML_DIR of the environment the stand does not use.
	args = append(args, "--ts-xml="+e.Stand.InterfacesDir())
	for _, c := range p.CSCs {
		args = append(args, c.Value)
	}
	return e.startBinary(ctx, binaryComponent{
		name: p.Name, kind: "producer", binary: "salkafka", args: args, run: p.Run,
		ready:      wait.ForFile(ready).WithTimeout(60 * time.Second),
		metricsURL: "http://" + metricsAddr + "/metrics", adminURL: "http://" + adminAddr + "/components",
	})
}

// topicDefaults are the partitions and replication factor a producer
// creates topics with: its own, else its site's, else 1.
func (e *Env) topicDefaults(p *ProducerSpec) (int32, int16) {
	k := e.Stand.Sites[p.Site.Value].Kafka
	return cmp.Or(p.Partitions, k.Partitions, 1), cmp.Or(p.ReplicationFactor, k.ReplicationFactor, 1)
}

func (e *Env) startProducer(ctx context.Context, p *ProducerSpec) error {
	if p.Run == Binary || p.Run == Container {
		return e.startBinaryProducer(ctx, p)
	}
	se := e.Sites[p.Site.Value]
	cscs := make([]string, len(p.CSCs))
	for i, c := range p.CSCs {
		cscs[i] = c.Value
	}
	partitions, rf := e.topicDefaults(p)
	pr, err := producer.New(ctx, producer.Config{
		Brokers: se.Brokers, RegistryURL: se.RegistryURL, Bus: e.Bus, Interfaces: e.Stand.Loaded,
		Components: cscs, Domain: p.Domain, PartitionPrefix: p.PartitionPrefix, Subname: p.Subname,
		Partitions: partitions, ReplicationFactor: rf, Acks: p.WaitAck, QueueDepth: p.QueueLen,
		TopicConfigs: e.Stand.Sites[p.Site.Value].Kafka.TopicConfigs,
		Logger:       e.log.With("component", "producer "+p.Name),
	})
	if err != nil {
		return fmt.Errorf("producer %s: %w", p.Name, err)
	}
	se.Producers[p.Name] = pr
	stats := func() map[string]int64 {
		return map[string]int64{"read": pr.Stats.Read.Load(), "produced": pr.Stats.Produced.Load(), "failed": pr.Stats.Failed.Load()}
	}
	return e.startComponent(ctx, p.Name, "producer", stats, nil, func(ctx context.Context, ready func()) error {
		ready()
		return pr.Run(ctx)
	}, pr.Registry())
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

// Endpoints describes where the stand's parts listen, one per line:
// each site's Kafka, registry and InfluxDB, each DDS domain's port, and
// the metrics and admin endpoints of components run as binaries.
func (e *Env) Endpoints() string {
	var b strings.Builder
	for _, name := range e.Stand.SiteNames() {
		se := e.Sites[name]
		fmt.Fprintf(&b, "  site %s\n    kafka     %s\n", name, strings.Join(se.Brokers, ","))
		if se.ownURL != "" {
			fmt.Fprintf(&b, "    registry  %s\n", se.ownURL)
		}
		for _, alias := range slices.Sorted(maps.Keys(se.RemoteURLs)) {
			fmt.Fprintf(&b, "    registry  %s  (remote, %s's schemas)\n", se.RemoteURLs[alias], alias)
		}
		if se.InfluxURL != "" {
			fmt.Fprintf(&b, "    influxdb  %s", se.InfluxURL)
			if spec := e.Stand.Sites[name].InfluxDB; spec != nil {
				var dbs []string
				for _, d := range spec.Names() {
					dbs = append(dbs, e.Database(name, d))
				}
				kind := "databases"
				if spec.Major() == 2 {
					kind = "buckets"
				}
				fmt.Fprintf(&b, "  %s %s", kind, strings.Join(dbs, ", "))
			}
			if se.InfluxToken != "" && e.Stand.Backend != External {
				fmt.Fprintf(&b, "  org %s  token %s", se.InfluxOrg, se.InfluxToken)
			}
			b.WriteString("\n")
		}
	}
	domains := map[int]bool{}
	for _, p := range e.Stand.Producers {
		domains[p.Domain] = true
	}
	for _, d := range slices.Sorted(maps.Keys(domains)) {
		fmt.Fprintf(&b, "  dds domain %d  127.0.0.1:%d (TESTSTAND_DDS_BASE_PORT=%d)\n", d, dds.Port(e.DDSBasePort, d), e.DDSBasePort)
	}
	for _, n := range e.ComponentNames() {
		e.mu.Lock()
		c := e.components[n]
		e.mu.Unlock()
		line := fmt.Sprintf("  %s %s", c.kind, n)
		if c.metricsURL != "" {
			line += "  metrics " + c.metricsURL
		}
		if c.adminURL != "" {
			line += "  admin " + c.adminURL
		}
		b.WriteString(line + "\n")
	}
	return b.String()
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

// Down stops components in reverse start order, then registries, clusters
// and influxd servers the stand started.
func (e *Env) Down(ctx context.Context) error {
	e.mu.Lock()
	order := append([]string(nil), e.order...)
	e.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		_ = e.Stop(order[i])
	}
	for _, l := range e.links {
		l.Close()
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
		if se.Kafka != nil {
			se.Kafka.Close()
		}
		if se.Apache != nil {
			errs = append(errs, se.Apache.Stop())
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
	for _, s := range e.ownInflux {
		errs = append(errs, s.Stop())
	}
	if e.containers != nil {
		errs = append(errs, e.containers.stand.Terminate(ctx))
	}
	return errors.Join(errs...)
}

// startInflux starts an influxd of the given major version: bin1 for 1.x
// when given, else the one influxd.FindMajor finds.
func startInflux(ctx context.Context, major int, bin1 string) (*influxd.Server, error) {
	bin := bin1
	if major == 2 || bin == "" {
		var err error
		if bin, err = influxd.FindMajor(major, moduleRoots()...); err != nil {
			return nil, err
		}
	}
	if major == 2 {
		return influxd.StartV2(ctx, bin)
	}
	return influxd.Start(ctx, bin)
}
