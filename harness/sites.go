// sites.go holds what brings a site up: its embedded Kafka, its InfluxDB
// (its own, shared, or a container's), or the connection to a running
// site of an external stand; and the site's commit faults.

package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kfault"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/registry"
)

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

// newSiteEnv is a running site before its parts start.
func newSiteEnv(name string, brokers []string) *SiteEnv {
	return &SiteEnv{Name: name, Brokers: brokers, Producers: map[string]*producer.Producer{},
		Remotes: map[string]*registry.Server{}, RemoteURLs: map[string]string{}}
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
