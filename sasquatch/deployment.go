package sasquatch

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/replication"
)

// Deployment is one environment of Sasquatch as rendered.
type Deployment struct {
	// Env is the environment ("summit", "usdfprod").
	Env string
	// Files name what it was read from.
	Files []string
	// Kafka is the Kafka CR's broker side, nil when the environment
	// runs none.
	Kafka *Kafka
	// Topics are the KafkaTopic CRs.
	Topics []Topic
	// Users are the KafkaUser CRs.
	Users []User
	// Registries are the StrimziSchemaRegistry CRs.
	Registries []Registry
	// Consumers are the Telegraf Kafka consumers, by name.
	Consumers []*Consumer
	// Mirrors are MirrorMaker 2's mirrors into this environment.
	Mirrors []*Mirror
	// RestPrefixes are the topic prefixes the REST proxy may write (its
	// KafkaUser's ACLs).
	RestPrefixes []string
	// Warnings are what the rendered manifests get wrong without failing
	// (a key set twice).
	Warnings []string
}

// Kafka is a Kafka CR's broker settings.
type Kafka struct {
	Name, Version string
	// Config is spec.kafka.config, values as text.
	Config map[string]string
	// Listeners are the listeners' names.
	Listeners []string
}

// AutoCreateTopics is auto.create.topics.enable (Kafka's default true).
func (k *Kafka) AutoCreateTopics() bool { return k.Config["auto.create.topics.enable"] != "false" }

// TimestampType is log.message.timestamp.type (CreateTime by default).
func (k *Kafka) TimestampType() string {
	if t := k.Config["log.message.timestamp.type"]; t != "" {
		return t
	}
	return "CreateTime"
}

// Retention is log.retention.minutes or .hours (Kafka's default 168 h).
func (k *Kafka) Retention() time.Duration {
	if m, ok := numeric(k.Config["log.retention.minutes"]); ok {
		return time.Duration(m) * time.Minute
	}
	if h, ok := numeric(k.Config["log.retention.hours"]); ok {
		return time.Duration(h) * time.Hour
	}
	return 168 * time.Hour
}

// Topic is a KafkaTopic CR.
type Topic struct {
	Name                 string
	Partitions, Replicas int
	Config               map[string]string
}

// User is a KafkaUser CR.
type User struct {
	Name, Authentication string
	ACLs                 []ACL
}

// ACL is one of a user's simple ACLs.
type ACL struct {
	// Type is "topic", "group", "cluster"; PatternType "literal" or
	// "prefix".
	Type, Name, PatternType string
	Operations              []string
}

// Registry is a StrimziSchemaRegistry CR.
type Registry struct {
	// Name is the CR's, which is also its service's host.
	Name string
	// Topic is its storage topic (registryTopic): "registry-schemas" for
	// the local one, "<alias>.registry-schemas" for a remote one.
	Topic         string
	Compatibility string
}

// Remote is the alias whose schemas a remote registry serves (the
// replicated storage topic's alias), or "" for the local one.
func (r Registry) Remote() string {
	alias, _, ok := strings.Cut(r.Topic, ".registry-schemas")
	if !ok || alias == "" {
		if a, ok := strings.CutSuffix(r.Topic, "_registry-schemas"); ok {
			return a
		}
		return ""
	}
	return alias
}

// Mirror is one MirrorMaker 2 mirror: topics of Source copied into the
// environment (Target), renamed by the policy.
type Mirror struct {
	// Source and Target are the clusters' aliases; Source is the source
	// environment's name.
	Source, Target string
	// SourceBootstrap is the source cluster's bootstrap address.
	SourceBootstrap string
	// Patterns are topicsPattern's Java regular expressions; Exclude
	// topicsExcludePattern's.
	Patterns, Exclude []string
	// Policy is "default" or "identity"; Separator the policy's.
	Policy, Separator string
	// Refresh is refresh.topics.interval.seconds.
	Refresh time.Duration
	// Heartbeats and Checkpoints say which connectors run.
	Heartbeats, Checkpoints bool
	// Flow is the mirror as the project's replication compiles it.
	Flow *replication.Flow
}

// RegistryFor is the registry a consumer's avro_schema_registry URL
// names (its host's first label is the CR's name), or nil.
func (d *Deployment) RegistryFor(u string) *Registry {
	p, err := url.Parse(u)
	if err != nil {
		return nil
	}
	host, _, _ := strings.Cut(p.Hostname(), ".")
	for i := range d.Registries {
		if d.Registries[i].Name == host {
			return &d.Registries[i]
		}
	}
	return nil
}

// Consumer is the consumer named name, or nil.
func (d *Deployment) Consumer(name string) *Consumer {
	i := slices.IndexFunc(d.Consumers, func(c *Consumer) bool { return c.Name == name })
	if i < 0 {
		return nil
	}
	return d.Consumers[i]
}

func numeric(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
