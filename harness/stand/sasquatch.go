package stand

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/sasquatch"
	"github.com/lsst-ts/teststand/sink"
)

// SasquatchSpec takes a stand's sites, registries, replication and sinks
// from Sasquatch's own deployment: Phalanx's chart rendered with each
// environment's values (or manifests rendered already). Each environment
// becomes a site: its Kafka's broker settings, its local and remote
// registries, its InfluxDB with the consumers' databases, MirrorMaker
// 2's mirrors into it as flows, and every Telegraf consumer as a sink
// with the consumer's own options. The stand adds what the deployment
// does not have: producers and traffic.
type SasquatchSpec struct {
	// Chart is Phalanx's Sasquatch chart (applications/sasquatch),
	// relative to the stand file.
	Chart string `yaml:"chart"`
	// Environments are the deployment's environments the stand runs.
	Environments []*SasquatchEnv `yaml:"environments" jsonschema:"required"`
}

// SasquatchEnv is one environment of a SasquatchSpec.
type SasquatchEnv struct {
	// Env is the environment's name (values-<env>.yaml; a mirror's
	// source alias names one).
	Env string `yaml:"env" jsonschema:"required"`
	// Site is the stand's site for it; "" means Env.
	Site string `yaml:"site"`
	// Values are values files used instead of the chart's
	// values-<env>.yaml, relative to the stand file: a change to try.
	Values []string `yaml:"values"`
	// Manifests is the environment rendered already (helm template's
	// output), relative to the stand file, instead of the chart.
	Manifests string `yaml:"manifests"`
	// LeaveOut are consumers the stand does not run (by name), such as
	// those with options the project's sink does not honour.
	LeaveOut []string `yaml:"leave_out"`
	// Run is how the consumers run: inprocess (default), binary or
	// telegraf (real Telegraf configured from the same rules).
	Run RunMode `yaml:"run"`
	// Telegraf are consumers that also run as real Telegraf with their
	// rendered telegraf.conf itself (endpoints pointed at the stand,
	// credentials dropped), beside the stand's sink, into databases
	// named <database>_telegraf: the two must write the same points
	// (backend process or containers).
	Telegraf []string `yaml:"telegraf"`

	// Deployment is the environment as read.
	Deployment *sasquatch.Deployment `yaml:"-"`
}

// RestProxyUser is the bearer token of a REST proxy taken from a
// deployment: the name of the KafkaUser the deployed proxy writes as.
const RestProxyUser = "rest-proxy"

// Deployed is the deployment's consumer a sink runs with its rendered
// telegraf.conf (run telegraf), and the stand's name of each database
// that config names; nil for every other sink.
func (k *SinkSpec) Deployed() (*sasquatch.Consumer, map[string]string) {
	return k.deployed, k.deployedDBs
}

// SiteName is the stand's site for the environment.
func (e *SasquatchEnv) SiteName() string { return cmp.Or(e.Site, e.Env) }

// fromSasquatch reads the deployment's environments and adds to the
// stand what they make of it. An error names the stand's environment
// entry and what the deployment got wrong.
func (s *Stand) fromSasquatch() error {
	spec := s.Sasquatch
	if spec == nil {
		return nil
	}
	dir := filepath.Dir(s.File)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	sites := map[string]string{} // environment → site
	for i, e := range spec.Environments {
		at := s.where(yamlx.Path{"sasquatch", "environments", i})
		if e.Env == "" {
			return fmt.Errorf("%s: sasquatch environment: env is required", at)
		}
		if _, dup := sites[e.Env]; dup {
			return fmt.Errorf("%s: sasquatch environment %q twice", at, e.Env)
		}
		sites[e.Env] = e.SiteName()
		var d *sasquatch.Deployment
		var err error
		switch {
		case e.Manifests != "":
			var data []byte
			if data, err = os.ReadFile(rel(e.Manifests)); err == nil {
				d, err = sasquatch.ParseManifests(e.Env, rel(e.Manifests), data)
			}
		case spec.Chart == "":
			err = fmt.Errorf("no chart (sasquatch.chart) and no manifests")
		default:
			c := sasquatch.Chart{Dir: rel(spec.Chart), Env: e.Env}
			for _, v := range e.Values {
				c.Values = append(c.Values, rel(v))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			d, err = sasquatch.Load(ctx, c)
			cancel()
		}
		if err != nil {
			return fmt.Errorf("%s: sasquatch environment %s: %w", at, e.Env, err)
		}
		e.Deployment = d
	}
	for i, e := range spec.Environments {
		if err := s.addEnvironment(i, e, sites); err != nil {
			return fmt.Errorf("%s: sasquatch environment %s: %w", s.where(yamlx.Path{"sasquatch", "environments", i}), e.Env, err)
		}
	}
	return nil
}

// addEnvironment adds one environment's site, flows and sinks.
func (s *Stand) addEnvironment(i int, e *SasquatchEnv, sites map[string]string) error {
	d, name := e.Deployment, e.SiteName()
	var line, col int
	if n, _ := yamlx.Lookup(s.tree, yamlx.Path{"sasquatch", "environments", i}); n != nil {
		line, col = n.Line, n.Column
	}
	ref := func(v string) Ref { return Ref{Value: v, Line: line, Column: col} }
	if s.Sites == nil {
		s.Sites = map[string]*Site{}
	}
	site := s.Sites[name]
	if site == nil {
		site = &Site{}
		s.Sites[name] = site
	}
	if k := d.Kafka; k != nil {
		site.Kafka.AutoCreateTopics = k.AutoCreateTopics()
		if site.Kafka.TopicConfigs == nil {
			site.Kafka.TopicConfigs = map[string]string{}
		}
		if _, ok := site.Kafka.TopicConfigs["message.timestamp.type"]; !ok {
			site.Kafka.TopicConfigs["message.timestamp.type"] = k.TimestampType()
		}
		if _, ok := site.Kafka.TopicConfigs["retention.ms"]; !ok {
			site.Kafka.TopicConfigs["retention.ms"] = fmt.Sprint(k.Retention().Milliseconds())
		}
	}
	for _, t := range d.Topics {
		if !slices.ContainsFunc(site.Kafka.Topics, func(x TopicSpec) bool { return x.Name == t.Name }) {
			site.Kafka.Topics = append(site.Kafka.Topics, TopicSpec{Name: t.Name, Partitions: int32(t.Partitions), Config: t.Config})
		}
	}
	for _, r := range d.Registries {
		alias := r.Remote()
		if alias == "" {
			if site.Registry == nil {
				site.Registry = &RegistrySpec{Topic: r.Topic, Compatibility: strings.ToUpper(r.Compatibility)}
			}
			continue
		}
		src, ok := sites[alias]
		if !ok {
			return fmt.Errorf("remote registry %s serves %s's schemas (%s), and the stand has no environment %s", r.Name, alias, r.Topic, alias)
		}
		if !slices.ContainsFunc(site.RemoteRegistries, func(x *RemoteRegistrySpec) bool { return x.Alias.Value == src }) {
			site.RemoteRegistries = append(site.RemoteRegistries, &RemoteRegistrySpec{Alias: ref(src)})
		}
	}
	if len(d.RestPrefixes) > 0 && site.Registry != nil {
		// The REST proxy writes as its KafkaUser, whose ACLs name the
		// topic prefixes it may write: the stand's proxy takes a bearer
		// token named after that user for those prefixes.
		run := RunMode("") // in process, unless the consumers run as binaries
		if e.Run == Binary {
			run = Binary
		}
		s.RestProxies = append(s.RestProxies, &RestProxySpec{Name: e.Env + "-rest-proxy", Site: ref(name),
			Tokens: map[string][]string{RestProxyUser: slices.Clone(d.RestPrefixes)}, Run: run})
	}
	for _, m := range d.Mirrors {
		src, ok := sites[m.Source]
		if !ok {
			return fmt.Errorf("MirrorMaker 2 mirrors %s into %s, and the stand has no environment %s", m.Source, e.Env, m.Source)
		}
		f := &FlowSpec{Name: src + "->" + name, Source: ref(src), Target: ref(name), Policy: m.Policy, Separator: m.Separator,
			Topics: m.Patterns, Refresh: Duration{m.Refresh}}
		if len(m.Exclude) > 0 {
			f.Exclude = m.Exclude
		}
		if !m.Heartbeats {
			f.Heartbeats = &Duration{}
		}
		s.Replication = append(s.Replication, f)
	}
	for key, names := range map[string][]string{"leave_out": e.LeaveOut, "telegraf": e.Telegraf} {
		for _, n := range names {
			if d.Consumer(n) == nil {
				var have []string
				for _, c := range d.Consumers {
					have = append(have, c.Name)
				}
				return fmt.Errorf("%s: %s has no consumer %q (it has %s)", key, e.Env, n, strings.Join(have, ", "))
			}
		}
	}
	for _, c := range d.Consumers {
		if slices.Contains(e.LeaveOut, c.Name) {
			continue
		}
		sinks, err := consumerSinks(d, c, e, ref, sites)
		if err != nil {
			return err
		}
		for _, k := range sinks {
			if site.InfluxDB == nil {
				site.InfluxDB = &InfluxSpec{}
			}
			for _, r := range k.Rules {
				if !slices.Contains(site.InfluxDB.Names(), r.Database) {
					if site.InfluxDB.Major() == 2 {
						site.InfluxDB.Buckets = append(site.InfluxDB.Buckets, r.Database)
					} else {
						site.InfluxDB.Databases = append(site.InfluxDB.Databases, r.Database)
					}
				}
			}
			s.Sinks = append(s.Sinks, k)
		}
	}
	return nil
}

// consumerSinks is a Telegraf consumer as the stand's sinks, one per
// database it writes: its group, batching, undelivered limit and offset,
// and one rule with its topics (topic_regexps matched anywhere in a name,
// as Telegraf does), timestamp, precision, tags, fields and registry. A
// consumer with an option the sink does not honour is refused, naming
// it: the stand's sinks and its Telegraf are configured from the same
// rules, so neither would run it as deployed.
func consumerSinks(d *sasquatch.Deployment, c *sasquatch.Consumer, e *SasquatchEnv, ref func(string) Ref, sites map[string]string) ([]*SinkSpec, error) {
	if len(c.Unsupported) > 0 {
		return nil, fmt.Errorf("consumer %s: %s: the stand cannot run it as deployed; leave it out (leave_out: [%s])", c.Name, strings.Join(c.Unsupported, "; "), c.Name)
	}
	if len(c.Databases) == 0 {
		return nil, fmt.Errorf("consumer %s (%s): no influxdb output takes its metrics", c.Name, c.File)
	}
	reg := d.RegistryFor(c.Registry)
	if reg == nil {
		return nil, fmt.Errorf("consumer %s (%s): avro_schema_registry %s is none of %s's registries", c.Name, c.File, c.Registry, d.Env)
	}
	registry := "local"
	if alias := reg.Remote(); alias != "" {
		registry = sites[alias]
	}
	var topics []string
	for _, t := range c.Topics {
		topics = append(topics, regexp.QuoteMeta(t))
	}
	for _, re := range c.TopicRegexps {
		topics = append(topics, ".*(?:"+re.String()+").*") // found anywhere, as Telegraf matches
	}
	beside := slices.Contains(e.Telegraf, c.Name)
	var out []*SinkSpec
	if beside {
		k := &SinkSpec{Name: e.Env + "-" + strings.ReplaceAll(c.Name, "#", "-") + "-telegraf", Site: ref(e.SiteName()), Group: c.Group,
			Run: Telegraf, deployed: c, deployedDBs: map[string]string{}}
		for _, db := range c.Databases {
			k.deployedDBs[db] = db + "_telegraf"
			r := sink.RuleSpec{Topics: topics, Database: db + "_telegraf", Timestamp: c.Timestamp, TimestampFormat: c.TimestampFormat,
				Tags: c.Tags, Fields: c.Fields, FieldSeparator: c.FieldSeparator, Registry: registry}
			if c.Precision > 0 {
				r.Precision = c.Precision.String()
			}
			k.Rules = append(k.Rules, r)
		}
		out = append(out, k)
	}
	for _, db := range c.Databases {
		name := e.Env + "-" + strings.ReplaceAll(c.Name, "#", "-")
		if len(c.Databases) > 1 {
			name += "-" + db
		}
		rule := sink.RuleSpec{Topics: topics, Database: db, Timestamp: c.Timestamp, TimestampFormat: c.TimestampFormat,
			Tags: c.Tags, Fields: c.Fields, FieldSeparator: c.FieldSeparator, Registry: registry}
		if c.Precision > 0 {
			rule.Precision = c.Precision.String()
		}
		group := c.Group
		if beside {
			group += "-teststand" // the deployed group is Telegraf's
		}
		out = append(out, &SinkSpec{Name: name, Site: ref(e.SiteName()), Group: group, Rules: []sink.RuleSpec{rule},
			MaxBatch: c.MetricBatchSize, FlushInterval: Duration{c.FlushInterval}, MaxUndelivered: c.MaxUndelivered,
			Offset: c.Offset, Run: e.Run})
	}
	return out, nil
}
