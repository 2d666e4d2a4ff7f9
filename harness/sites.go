// sites.go holds what brings a stand's sites up on its backend: each
// site's Kafka, then its InfluxDB with the stand's databases (created, or
// checked on a deployment's), and the site's commit faults where the
// backend has them.

package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/registry"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// startClusters brings up every site's Kafka on the backend.
func (e *Env) startClusters(ctx context.Context) error {
	brokers, err := e.backend.StartKafka(ctx)
	admin, aerr := e.adminOpts()
	for name, b := range brokers {
		e.Sites[name] = newSiteEnv(name, b)
		e.Sites[name].KafkaOpts = admin
	}
	if aerr != nil {
		return aerr
	}
	if err != nil {
		return err
	}
	for _, name := range e.Stand.SiteNames() {
		if e.Sites[name] == nil {
			return fmt.Errorf("site %s: the %s backend started no Kafka for it", name, e.Stand.Backend)
		}
	}
	return nil
}

// startSites gives each site that has one its InfluxDB.
func (e *Env) startSites(ctx context.Context) error {
	for _, name := range e.Stand.SiteNames() {
		if err := e.createTopics(ctx, name); err != nil {
			return err
		}
		if spec := e.Stand.Sites[name].InfluxDB; spec != nil {
			if err := e.startSiteInflux(ctx, name, spec); err != nil {
				return err
			}
		}
	}
	return nil
}

// startSiteInflux gives a site its InfluxDB from the backend with the
// site's databases: created there, prefixed on an influxd other sites or
// stands share, or, on a deployment's, checked for.
func (e *Env) startSiteInflux(ctx context.Context, name string, spec *InfluxSpec) error {
	se := e.Sites[name]
	in, err := e.backend.StartInfluxDB(ctx, name, spec)
	if err != nil {
		return err
	}
	ic := in.Client
	se.InfluxURL, se.InfluxOrg, se.InfluxToken = ic.URL, ic.Org, ic.Token
	se.InfluxUser, se.InfluxPassword = ic.Username, ic.Password
	if in.Existing {
		have, err := ic.Databases(ctx)
		if err != nil {
			return fmt.Errorf("site %s: influxdb: %w", name, err)
		}
		for _, db := range spec.Names() {
			if !slices.Contains(have, db) {
				return fmt.Errorf("site %s: influxdb %s has no database or bucket %q (an external stand creates none)", name, se.InfluxURL, db)
			}
		}
		return nil
	}
	if in.Shared {
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

// newSiteEnv is a running site before its parts start.
func newSiteEnv(name string, brokers []string) *SiteEnv {
	return &SiteEnv{Name: name, Brokers: brokers, Producers: map[string]*producer.Producer{},
		Remotes: map[string]*registry.Server{}, RemoteURLs: map[string]string{}}
}

// FailCommits makes a site's cluster refuse (or accept again) consumer
// group offset commits, as an unreachable group coordinator would: a
// replicator copies records but cannot record its progress, so a
// restarted one copies them again. Only a backend that is a
// CommitFaulter can.
func (e *Env) FailCommits(site string, fail bool) error {
	if e.Sites[site] == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	f, err := capability[backend.CommitFaulter](e, "commit faults")
	if err != nil {
		return fmt.Errorf("site %s: %w", site, err)
	}
	return f.FailCommits(site, fail)
}

// createTopics creates the topics a site's Kafka starts with, with their
// partitions and configs (a deployment's are there already).
func (e *Env) createTopics(ctx context.Context, site string) error {
	spec := e.Stand.Sites[site].Kafka
	if len(spec.Topics) == 0 || e.deployment() {
		return nil
	}
	cl, err := e.Sites[site].client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	rf := min(int16(spec.Brokers), max(spec.ReplicationFactor, 1))
	for _, t := range spec.Topics {
		configs := map[string]*string{}
		for k, v := range t.Config {
			configs[k] = &v
		}
		resp, err := adm.CreateTopic(ctx, cmp.Or(t.Partitions, spec.Partitions, 1), rf, configs, t.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("site %s: create topic %s: %w", site, t.Name, err)
		}
	}
	return nil
}
