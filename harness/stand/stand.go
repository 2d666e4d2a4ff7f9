package stand

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/netfault"

	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
	"github.com/lsst-ts/teststand/sasquatch"
	"github.com/lsst-ts/teststand/sink"
)

// Stand is a stand definition (version 1), as written in YAML.
type Stand struct {
	Version int `yaml:"version" jsonschema:"enum=1"`
	// Extends names a stand this one overlays (relative to this file):
	// its mappings are merged key by key, lists of named items item by
	// item, and everything else this file gives replaces the base's.
	Extends     string `yaml:"extends"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Backend is what runs the sites: Embedded (default), Process,
	// Containers or External (see their constants). Which run modes each
	// component may take on it is the table in modes.go.
	Backend Backend `yaml:"backend"`
	// DDS is the transport SAL samples travel on between the stand's
	// writers and its producers: "simulated" (the default, the project's
	// own cross-process bus) or "cyclonedds" (real DDS, RTPS on the wire,
	// with Cyclone DDS; programs built with -tags cyclonedds).
	DDS string `yaml:"dds" jsonschema:"enum=simulated,enum=cyclonedds"`
	// Containers configures the containers backend: images per service
	// (kafka, registry, influxdb, components) over the upstream defaults,
	// a registry mirror prefix, and each container's readiness timeout.
	Containers *ContainersSpec  `yaml:"containers"`
	Interfaces string           `yaml:"interfaces" jsonschema:"description=builtin (the project's sample interfaces) or a ts_xml sal_interfaces directory"`
	Sites      map[string]*Site `yaml:"sites"`
	Producers  []*ProducerSpec  `yaml:"producers"`
	// Writers are Kafka-era SAL components (ts_salobj 8): they write to
	// their site's Kafka themselves, with no producer.
	Writers     []*WriterSpec `yaml:"writers"`
	Replication []*FlowSpec   `yaml:"replication"`
	// MirrorMaker is replication written as MM2 properties (the keys of
	// connect-mirror-maker.properties, less bootstrap servers, which
	// come from the sites); it replaces Replication.
	MirrorMaker MM2Block `yaml:"mirrormaker"`
	// MirrorMakerFile is an MM2 properties file (relative to the stand)
	// read instead of a mirrormaker block, as deployed; its clusters'
	// connection settings are left out: the sites are the clusters.
	MirrorMakerFile string      `yaml:"mirrormaker_file"`
	Sinks           []*SinkSpec `yaml:"sinks"`
	// RestProxies are Kafka REST proxies (Confluent's v2/v3 API), the way
	// data that is not SAL's (lsst.dm analysis metrics) enters Kafka.
	RestProxies []*RestProxySpec `yaml:"rest_proxies"`
	// SalTransforms turn SAL's plain-text messages (topics
	// <CSC>_telemetry|_event|_command) into Avro topics
	// lsst.sal.<CSC>_<topic>, as kafkaefd's saltransform did.
	SalTransforms []*SalTransformSpec `yaml:"sal_transforms"`
	// Traffic is background load written for as long as the stand is up,
	// so that scenarios run at summit rates; verdicts never count it.
	Traffic []*TrafficSpec `yaml:"traffic"`
	// Faults are conditions the stand has for its whole life (a slow link
	// between sites); scenarios add their own with steps.
	Faults []*FaultSpec `yaml:"faults"`
	// Security secures every site (see SecuritySpec); nil leaves the
	// stand open, as the test stands Sasquatch runs without it.
	Security *SecuritySpec `yaml:"security"`
	// Sasquatch takes sites, registries, replication and sinks from
	// Sasquatch's deployment (Phalanx's chart and values): see
	// SasquatchSpec.
	Sasquatch *SasquatchSpec `yaml:"sasquatch"`

	// Heartbeats are the pairs MM2-style heartbeats are emitted for,
	// derived from the flows.
	Heartbeats []HeartbeatSpec `yaml:"-"`

	// File is the path the stand was loaded from.
	File string `yaml:"-"`
	// Loaded is the interface model the stand's CSC names refer to.
	Loaded *sal.Interfaces `yaml:"-"`

	interfacesDir string
	// compiled are the flows with their policies and filters.
	compiled []compiledFlow
	// origins are the topics at each site, each with the sites it was
	// produced at (see topicOrigins).
	origins map[string]map[string][]string
	// files are the stand file and the files it extends: a line number
	// of the k-th is stored plus k*lineShift.
	files []string
	// tree is the YAML the stand was decoded from (base files merged in,
	// their lines shifted): where gives the position of any key in it.
	tree *yaml.Node
}

// lineShift separates the line numbers of a stand's base files.
const lineShift = 1_000_000

// pos is "file:line" for a stored line number.
func (s *Stand) pos(line int) string {
	k := line / lineShift
	if k >= len(s.files) {
		return fmt.Sprintf("%s:%d", s.File, line)
	}
	return fmt.Sprintf("%s:%d", s.files[k], line%lineShift)
}

// posAt is "file:line:column" for a stored position ("file:line" with
// column 0, the stand's file with line 0).
func (s *Stand) posAt(line, column int) string {
	switch {
	case line == 0:
		return s.File
	case column == 0:
		return s.pos(line)
	}
	return fmt.Sprintf("%s:%d", s.pos(line), column)
}

// where is the position of the value at path in the stand's files or,
// where the stand does not give path, of the nearest value above it (a
// missing key is reported at the mapping that lacks it). Every error of
// a stand is reported at one.
func (s *Stand) where(path yamlx.Path) string {
	n, _ := yamlx.Lookup(s.tree, path)
	if n == nil {
		return s.File
	}
	return s.posAt(n.Line, n.Column)
}

// given reports whether the stand's files give path.
func (s *Stand) given(path yamlx.Path) bool {
	_, ok := yamlx.Lookup(s.tree, path)
	return ok
}

// Site is one Kafka cluster with its registries and, optionally, an
// InfluxDB: every site is its own world.
type Site struct {
	Kafka KafkaSpec `yaml:"kafka"`
	// Registry is the site's own registry, which its producers, REST
	// proxies and SAL transforms register schemas in.
	Registry *RegistrySpec `yaml:"registry"`
	// RemoteRegistries are read-only registries, one per source alias,
	// each serving the schemas of that site from its replicated storage
	// topic (Sasquatch's remote context): consumers of that site's
	// replicas decode with it. See registries.go.
	RemoteRegistries []*RemoteRegistrySpec `yaml:"remote_registries"`
	InfluxDB         *InfluxSpec           `yaml:"influxdb"`
}

// KafkaSpec describes a site's cluster.
type KafkaSpec struct {
	Brokers int `yaml:"brokers" jsonschema:"minimum=1,maximum=9"`
	// Partitions and ReplicationFactor are what the site's producers
	// create topics with unless a producer says otherwise.
	Partitions        int32 `yaml:"partitions" jsonschema:"minimum=1"`
	ReplicationFactor int16 `yaml:"replication_factor" jsonschema:"minimum=1"`
	// TopicConfigs are set on every topic the site's producers create
	// (retention.ms, message.timestamp.type, ...); replication copies them
	// to the replicas as MM2 does. The embedded Kafka keeps and reports
	// them but enforces only some (not message.timestamp.type).
	TopicConfigs map[string]string `yaml:"topic_configs"`
	// AutoCreateTopics lets a metadata request create a missing topic
	// (auto.create.topics.enable); the embedded Kafka then answers the
	// creating request LEADER_NOT_AVAILABLE, as real Kafka does.
	AutoCreateTopics bool `yaml:"auto_create_topics"`
	// Topics are topics the site's Kafka has from the start, with their
	// partitions and configs (a deployment's KafkaTopics).
	Topics []TopicSpec `yaml:"topics"`

	// Bootstrap is a running cluster's host:port[,host:port] (backend
	// external).
	Bootstrap string `yaml:"bootstrap"`
}

// TopicSpec is a topic a site's Kafka starts with.
type TopicSpec struct {
	Name string `yaml:"name" jsonschema:"required"`
	// Partitions is the partition count; 0 means the site's partitions.
	Partitions int32             `yaml:"partitions" jsonschema:"minimum=0"`
	Config     map[string]string `yaml:"config"`
}

// RegistrySpec describes a site's own schema registry. Remote is the
// older way to write a site whose only registry is a remote one
// (`registry: {remote: summit}` is `remote_registries: [summit]`).
type RegistrySpec struct {
	// Topic is the storage topic; "" means registry-schemas.
	Topic string `yaml:"topic"`
	// Compatibility is the registry's global compatibility level
	// (NONE, BACKWARD, ...); "" leaves the registry's default.
	Compatibility string `yaml:"compatibility" jsonschema:"enum=,enum=NONE,enum=BACKWARD,enum=BACKWARD_TRANSITIVE,enum=FORWARD,enum=FORWARD_TRANSITIVE,enum=FULL,enum=FULL_TRANSITIVE"`
	Remote        Ref    `yaml:"remote"`
	// URL is a running registry (backend external).
	URL string `yaml:"url"`
}

// InfluxSpec describes a site's InfluxDB.
type InfluxSpec struct {
	// Version is the major version, 1 (the default) or 2.
	Version int `yaml:"version" jsonschema:"enum=1,enum=2"`
	// Databases are a 1.x site's databases, Buckets a 2.x site's buckets;
	// sink rules name either as their database.
	Databases []string `yaml:"databases"`
	Buckets   []string `yaml:"buckets"`
	// URL is a running InfluxDB (backend external); its databases or
	// buckets must exist: an external stand never creates or drops one.
	URL string `yaml:"url"`
	// Org and Token reach a running 2.x (backend external); a stand
	// that starts its own InfluxDB 2 onboards it itself.
	Org   string `yaml:"org"`
	Token string `yaml:"token"`
}

// StorageTopic is the registry's storage topic.
func (r *RegistrySpec) StorageTopic() string {
	if r == nil || r.Topic == "" {
		return "registry-schemas"
	}
	return r.Topic
}

// Major is the site's InfluxDB major version.
func (i *InfluxSpec) Major() int { return cmp.Or(i.Version, 1) }

// Names are the site's databases (1.x) or buckets (2.x).
func (i *InfluxSpec) Names() []string {
	if i.Major() == 2 {
		return i.Buckets
	}
	return i.Databases
}

// ProducerSpec is one SAL Kafka producer (salkafka) at a site.
type ProducerSpec struct {
	Name              string `yaml:"name"`
	Site              Ref    `yaml:"site"`
	Domain            int    `yaml:"domain" jsonschema:"minimum=0,maximum=232"`
	PartitionPrefix   string `yaml:"partition_prefix"`
	CSCs              []Ref  `yaml:"cscs"`
	Subname           string `yaml:"subname"`
	Partitions        int32  `yaml:"partitions" jsonschema:"minimum=1"`
	ReplicationFactor int16  `yaml:"replication_factor" jsonschema:"minimum=1"`
	WaitAck           string `yaml:"wait_ack"`
	QueueLen          int    `yaml:"queue_len" jsonschema:"minimum=100"`
	// RegistryWait is how long a topic waits for an unreachable registry
	// before the producer gives it up; 0 (the default) waits as long as
	// the producer runs.
	RegistryWait Duration `yaml:"registry_wait"`
	// Run is "inprocess" (default) or "binary": the salkafka binary as a
	// subprocess, on the cross-process DDS bus, as deployed; or
	// "container": that binary in the components image (containers
	// backend).
	Run RunMode `yaml:"run"`
}

// WriterSpec is a group of Kafka-era SAL components (ts_salobj 8): each
// writes its topics straight to its site's Kafka under the group's
// subname, as salobj does (package kafkasal), with no SAL Kafka producer
// between. A scenario writes through a group by its name.
type WriterSpec struct {
	Name string `yaml:"name"`
	Site Ref    `yaml:"site"`
	// SAL is the transport the components speak: "kafka".
	SAL string `yaml:"sal" jsonschema:"enum=kafka"`
	// Subname is LSST_TOPIC_SUBNAME: topics lsst.<subname>.<CSC>.<topic>;
	// "" means sal, production's. Another subname isolates a test as a
	// DDS domain did.
	Subname           string `yaml:"subname"`
	CSCs              []Ref  `yaml:"cscs"`
	ReplicationFactor int16  `yaml:"replication_factor" jsonschema:"minimum=1"`
	WaitAck           string `yaml:"wait_ack"`
	// Domain is the DDS domain the group stands for (default 0). Features
	// written for DDS-era SAL say which domain a CSC publishes on; on a
	// stand with Kafka-era writers, the group of that domain serving the
	// CSC writes it to Kafka instead, so the same features run on both
	// eras. A group with a test subname stands for a test domain (12).
	Domain int `yaml:"domain" jsonschema:"minimum=0"`
}

// Serves reports whether the group writes csc at index (a CSC listed
// without an index is written at every index).
func (w *WriterSpec) Serves(csc string, index int32) bool {
	for _, c := range w.CSCs {
		name, idx, _ := sal.ParseCSC(c.Value) // valid: the stand was checked
		if name == csc && (idx == 0 || idx == index) {
			return true
		}
	}
	return false
}

// WriterFor is the Kafka-era writer group that writes csc at index for
// traffic published on a DDS domain (see WriterSpec.Domain), or nil.
func (s *Stand) WriterFor(domain int, csc string, index int32) *WriterSpec {
	for _, w := range s.Writers {
		if w.Domain == domain && w.Serves(csc, index) {
			return w
		}
	}
	return nil
}

// Writer is the Kafka-era writer group of that name, or nil.
func (s *Stand) Writer(name string) *WriterSpec {
	for _, w := range s.Writers {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// FlowSpec is one replication flow between sites.
type FlowSpec struct {
	Name      string   `yaml:"name"`
	Source    Ref      `yaml:"source"`
	Target    Ref      `yaml:"target"`
	Policy    string   `yaml:"policy" jsonschema:"enum=default,enum=identity,enum=DefaultReplicationPolicy,enum=IdentityReplicationPolicy"`
	Separator string   `yaml:"separator"`
	Topics    []string `yaml:"topics"`
	Exclude   []string `yaml:"topics_exclude"`
	Refresh   Duration `yaml:"refresh"`
	// Run is "inprocess" (default on the embedded backend), "external"
	// (the deployment's own replicator; default on the external backend)
	// or "mirrormaker2": real MirrorMaker 2 in dedicated mode (backend
	// process), one process for all such flows of the stand, configured
	// with the connect-mirror-maker.properties these flows amount to.
	Run RunMode `yaml:"run"`
	// SyncConfigs is sync.topic.configs.interval; 0 means MM2's 600 s.
	SyncConfigs Duration `yaml:"sync_configs"`
	// Heartbeats is emit.heartbeats.interval; unset means 1 s, 0s none.
	Heartbeats *Duration `yaml:"heartbeats"`
}

// SecuritySpec secures every site as Sasquatch secures its clusters: each
// site's Kafka speaks SASL/SCRAM-SHA-512 over TLS, every component
// authenticates as the KafkaUser Sasquatch gives its kind (ts-salkafka,
// replicator, telegraf, rest-proxy, the registry's) and may do only what
// that user's ACLs grant, the registries take basic auth, and each site's
// InfluxDB is a server of the stand's own that answers only the run's
// InfluxDB user (1.x: auth-enabled; 2.x: its token). The certificates and
// passwords are made for each run (package standsec).
type SecuritySpec struct {
	// Kafka is sasl_ssl (the default) or sasl_plaintext.
	Kafka string `yaml:"kafka" jsonschema:"enum=sasl_ssl,enum=sasl_plaintext"`
	// Registry is basic (the default: HTTP basic auth) or none.
	Registry string `yaml:"registry" jsonschema:"enum=basic,enum=none"`
}

// TLS reports whether the sites' Kafka speaks TLS.
func (s *SecuritySpec) TLS() bool { return s != nil && s.Kafka != "sasl_plaintext" }

// RegistryAuth reports whether the registries take basic auth.
func (s *SecuritySpec) RegistryAuth() bool { return s != nil && s.Registry != "none" }

// FaultSpec is a standing network fault, set for the stand's whole life
// on the link between two sites or in front of a service at a site (a
// slow, narrow WAN link; a distant registry). Scenarios add faults of
// their own with steps, and every scenario ends with these alone again.
type FaultSpec struct {
	// Link is the link between two sites: what the replication flows
	// from one reach its Kafka through. Or, instead, Service at Site.
	Link *LinkSpec `yaml:"link"`
	// Service is registry, influxdb or kafka: what Site's components
	// reach it through.
	Service string `yaml:"service" jsonschema:"enum=registry,enum=influxdb,enum=kafka"`
	Site    Ref    `yaml:"site"`
	// Delay is each direction's latency, Jitter its spread (± Jitter).
	Delay  Duration `yaml:"delay"`
	Jitter Duration `yaml:"jitter"`
	// Bandwidth is each direction's limit in KB/s.
	Bandwidth int64 `yaml:"bandwidth"`
}

// Target is where the fault acts.
func (f *FaultSpec) Target() NetTarget {
	if f.Link != nil {
		return NetTarget{Service: NetLink, From: f.Link.From.Value, To: f.Link.To.Value}
	}
	return NetTarget{Service: f.Service, Site: f.Site.Value}
}

// NetFaults are the fault layer's faults the spec sets.
func (f *FaultSpec) NetFaults() []netfault.Fault {
	var out []netfault.Fault
	if f.Delay.Duration > 0 {
		out = append(out, netfault.Fault{Kind: netfault.Latency, Latency: f.Delay.Duration, Jitter: f.Jitter.Duration})
	}
	if f.Bandwidth > 0 {
		out = append(out, netfault.Fault{Kind: netfault.Bandwidth, Rate: f.Bandwidth})
	}
	return out
}

// The services a network fault can stand in front of.
const (
	// NetLink is the link between two sites: what the replication flows
	// from one reach its Kafka through (the replicator and MirrorMaker 2
	// run at the target, as Sasquatch's do, and read over the WAN).
	NetLink = "link"
	// NetRegistry, NetInflux and NetKafka are what a site's components
	// reach its registries, its InfluxDB and its Kafka through.
	NetRegistry = "registry"
	NetInflux   = "influxdb"
	NetKafka    = "kafka"
)

// NetTarget names where a network fault acts.
type NetTarget struct {
	// Service is NetLink (From to To) or a service at Site.
	Service        string
	From, To, Site string
}

// Link is the name of the fault layer's link for t: "summit->usdf",
// "registry@usdf".
func (t NetTarget) Link() string {
	if t.Service == NetLink {
		return t.From + "->" + t.To
	}
	return t.Service + "@" + t.Site
}

// String names the target in messages.
func (t NetTarget) String() string {
	switch t.Service {
	case NetLink:
		return fmt.Sprintf("the link from %s to %s", t.From, t.To)
	case NetInflux:
		return "the InfluxDB at " + t.Site
	case NetKafka:
		return "the Kafka at " + t.Site
	}
	return fmt.Sprintf("the %s at %s", t.Service, t.Site)
}

// KafkaClientsOutside names the components at a site that run outside
// the harness's process and reach the site's Kafka by the addresses its
// metadata gives (binaries, containers, Telegraf, MirrorMaker 2 writing
// into its target): a fault in front of the site's Kafka cannot reach
// them.
func (s *Stand) KafkaClientsOutside(site string) []string {
	var out []string
	outside := func(r RunMode) bool { return r == Binary || r == Container || r == Telegraf }
	for _, p := range s.Producers {
		if p.Site.Value == site && outside(p.Run) {
			out = append(out, "producer "+p.Name)
		}
	}
	for _, k := range s.Sinks {
		if k.Site.Value == site && outside(k.Run) {
			out = append(out, "sink "+k.Name)
		}
	}
	for _, r := range s.RestProxies {
		if r.Site.Value == site && outside(r.Run) {
			out = append(out, "REST proxy "+r.Name)
		}
	}
	for _, f := range s.Replication {
		if f.Run == MirrorMaker2 && f.Target.Value == site {
			out = append(out, "MirrorMaker 2")
			break
		}
	}
	return out
}

// LinkSpec names the direction of a link between two sites.
type LinkSpec struct {
	From Ref `yaml:"from" jsonschema:"required"`
	To   Ref `yaml:"to" jsonschema:"required"`
}

// ContainersSpec configures the containers backend.
type ContainersSpec struct {
	Images  map[string]string `yaml:"images"`
	Prefix  string            `yaml:"prefix"`
	Timeout Duration          `yaml:"timeout"`
}

// RestProxySpec is one Kafka REST proxy at a site, writing Avro through
// the site's registry.
type RestProxySpec struct {
	Name string `yaml:"name"`
	Site Ref    `yaml:"site"`
	// Tokens maps each bearer token to the topic prefixes it may write
	// (Sasquatch: lsst.dm, lsst.verify, lsst.prompt); none: no
	// authentication.
	Tokens map[string][]string `yaml:"tokens"`
	// Run is "inprocess" (default), "binary" (the restproxy binary) or
	// "container" (that binary in the components image; containers
	// backend).
	Run RunMode `yaml:"run"`
}

// SalTransformSpec is one SAL text transform at a site.
type SalTransformSpec struct {
	Name string `yaml:"name"`
	Site Ref    `yaml:"site"`
	// CSCs are the subsystems whose text topics it reads.
	CSCs []Ref `yaml:"cscs"`
}

// TrafficSpec is one background load: a traffic profile's rates on a
// domain, for the CSCs the domain's producers serve.
type TrafficSpec struct {
	// Kind is "sal" (default: a profile's SAL topics on a DDS domain),
	// "rest" (analysis metrics posted to a REST proxy) or "protobuf"
	// (AliECS-style events written to a site's topic).
	Kind string `yaml:"kind" jsonschema:"enum=sal,enum=rest,enum=protobuf"`
	// Profile is scenarios/profiles/NAME.yaml beside the stand, or a path.
	Profile string `yaml:"profile"`
	Domain  int    `yaml:"domain" jsonschema:"minimum=0,maximum=232"`
	// Scale multiplies every rate (default 1).
	Scale float64 `yaml:"scale" jsonschema:"exclusiveMinimum=0"`
	// Proxy, Topic, Rate, Tags and Token describe a rest load: metrics
	// posted to the proxy's topic (lsst.dm.<metric>) at Rate Hz, each with
	// the tags as string fields, with the token when the proxy has any.
	Proxy string `yaml:"proxy"`
	// Site is where a protobuf load writes (its Topic, at Rate Hz).
	Site  Ref               `yaml:"site"`
	Topic string            `yaml:"topic"`
	Rate  float64           `yaml:"rate" jsonschema:"exclusiveMinimum=0"`
	Tags  map[string]string `yaml:"tags"`
	Token string            `yaml:"token"`

	profile *mocksal.Profile
}

// HeartbeatSpec is one pair heartbeats are emitted for: into Target's
// "heartbeats" topic, keyed Source → Target.
type HeartbeatSpec struct {
	Source, Target string
	Interval       time.Duration
}

// MM2Block is a mapping of MM2 properties, each with its line.
type MM2Block []replication.Property

// UnmarshalYAML implements yaml.Unmarshaler: scalars are taken as written,
// lists are joined with ", " as MM2's list properties are.
func (b *MM2Block) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return yamlx.NodeErrorf(n, "want a mapping of MM2 properties, got %s", yamlx.Got(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		val := v.Value
		switch v.Kind {
		case yaml.ScalarNode:
		case yaml.SequenceNode:
			var parts []string
			for _, e := range v.Content {
				parts = append(parts, e.Value)
			}
			val = strings.Join(parts, ", ")
		default:
			return yamlx.NodeErrorf(v, "want a value or a list, got %s", yamlx.Got(v))
		}
		*b = append(*b, replication.Property{Key: k.Value, Value: val, Line: k.Line})
	}
	return nil
}

// SinkSpec is one Kafka → InfluxDB sink at a site. Topics and Database
// are the shorthand for one rule; Rules gives several (Telegraf's avro
// parser options: timestamp, timestamp_format, precision, tags, fields,
// measurement, retention_policy).
type SinkSpec struct {
	Name     string          `yaml:"name"`
	Site     Ref             `yaml:"site"`
	Topics   []string        `yaml:"topics"`
	Database string          `yaml:"database"`
	Rules    []sink.RuleSpec `yaml:"rules"`
	Group    string          `yaml:"group"`
	// Registry is the registry the sink's rules decode with unless a rule
	// names its own: "local" (the site's own) or a source alias (that
	// site's remote registry). By default each rule takes the registry of
	// the site its topics come from.
	Registry string `yaml:"registry"`
	// MaxBatch and FlushInterval are the sink's batching (0: defaults);
	// MaxUndelivered caps the records read and not yet written
	// (Telegraf's max_undelivered_messages; 0: twice MaxBatch).
	MaxBatch       int      `yaml:"max_batch" jsonschema:"minimum=1"`
	FlushInterval  Duration `yaml:"flush_interval"`
	MaxUndelivered int      `yaml:"max_undelivered" jsonschema:"minimum=1"`
	// Offset is where a new group starts: oldest (default) or newest.
	Offset string `yaml:"offset" jsonschema:"enum=oldest,enum=newest"`
	// Run is "inprocess" (default on the embedded backend), "binary":
	// the efdsink binary as a subprocess, which a scenario can kill with
	// SIGKILL, "container": that binary in the components image
	// (containers backend), "external": the deployment's own sink (default on the
	// external backend), or "telegraf": Telegraf's kafka_consumer with
	// its avro parser and influxdb output, configured as Sasquatch does
	// from the same rules (backend process).
	Run RunMode `yaml:"run"`

	rules []sink.Rule
	// registries are the rules' registries, resolved at load.
	registries []string
	// deployed, for a sink that runs a deployment's Telegraf consumer
	// with its own rendered config, is that consumer, and deployedDBs the
	// stand's name of each database it writes.
	deployed    *sasquatch.Consumer
	deployedDBs map[string]string
}

// Route is the rule of a sink that takes topic, or nil.
func (k *SinkSpec) Route(topic string) *sink.Rule {
	for i := range k.rules {
		if k.rules[i].Matches(topic) {
			return &k.rules[i]
		}
	}
	return nil
}

// Ref is a string value that remembers where it was written, so that a
// dangling reference can be reported at its file:line:column.
type Ref struct {
	Value        string
	Line, Column int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Ref) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return yamlx.NodeErrorf(n, "want a name, got %s", yamlx.Got(n))
	}
	r.Value, r.Line, r.Column = n.Value, n.Line, n.Column
	return nil
}

// Duration is a time.Duration written as "500ms", "2s". Which values a
// key takes (zero, negative) is checked with the stand's other figures
// (checkFigures).
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return yamlx.NodeErrorf(n, "want a duration such as 500ms or 2s, got %s", yamlx.Got(n))
	}
	d.Duration = v
	return nil
}

// InterfacesDir is the ts_xml directory the stand's interfaces came from,
// or "" for the built-in sample set.
func (s *Stand) InterfacesDir() string { return s.interfacesDir }

func (s *Stand) loadInterfaces(opts LoadOptions) (*sal.Interfaces, error) {
	dir := opts.InterfacesDir
	if dir == "" && s.Interfaces != "builtin" {
		dir = s.Interfaces
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(s.File), dir)
		}
	}
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	s.interfacesDir = dir
	if dir == "" {
		return sal.Load(sample.FS, sal.Avro(sample.Avro))
	}
	return sal.LoadDir(dir)
}

// at formats a position in the stand file.
func (s *Stand) at(r Ref) string {
	if r.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.pos(r.Line), r.Column)
}

// Served is what a domain's producers serve: each CSC's indices, 0 for
// "every index" (a CSC listed without one).
type Served map[string][]int32

// ServedOn is what the producers on domain serve.
func (s *Stand) ServedOn(domain int) Served {
	served := Served{}
	for _, p := range s.Producers {
		if p.Domain != domain {
			continue
		}
		for _, c := range p.CSCs {
			n, idx, _ := sal.ParseCSC(c.Value) // valid: the stand was checked
			if !slices.Contains(served[n], idx) {
				served[n] = append(served[n], idx)
			}
		}
	}
	return served
}

// Indices are the indices a profile's writer of csc is written at on the
// domain: its own index when the profile listed it (if a producer serves
// it), else each index the producers serve (the writer's placeholder for
// a producer serving every index); none when no producer serves csc.
func (sv Served) Indices(csc string, index int32, listed bool) []int32 {
	served, ok := sv[csc]
	if !ok {
		return nil
	}
	if listed {
		if slices.Contains(served, 0) || slices.Contains(served, index) {
			return []int32{index}
		}
		return nil
	}
	var out []int32
	for _, i := range served {
		if i == 0 {
			i = index
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

// ProfilePath is where a traffic profile named in the stand is: a path,
// or scenarios/profiles/NAME.yaml beside the stand.
func (s *Stand) ProfilePath(name string) string {
	if strings.ContainsAny(name, "/.") {
		return name
	}
	return filepath.Join(filepath.Dir(s.File), "profiles", name+".yaml")
}

// SiteNames are the site names, sorted.
func (s *Stand) SiteNames() []string {
	names := make([]string, 0, len(s.Sites))
	for n := range s.Sites {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CompiledRules are the sink's rules as compiled at load (their topic
// patterns, timestamps and tags), in the order Rules gives them.
func (k *SinkSpec) CompiledRules() []sink.Rule { return k.rules }

// LoadedProfile is a sal traffic's profile, read at load.
func (t *TrafficSpec) LoadedProfile() *mocksal.Profile { return t.profile }
