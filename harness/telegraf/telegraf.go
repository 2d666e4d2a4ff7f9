package telegraf

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/sink"
)

// Version is the Telegraf release `make conformance-tools` builds.
const Version = "1.37.2"

// ErrNotFound means Telegraf has not been built.
var ErrNotFound = errors.New("telegraf not found: run `make conformance-tools` (it builds Telegraf " + Version + " into ./bin)")

// Find locates the telegraf binary: $TELEGRAF, then bin/telegraf under
// each root given.
func Find(roots ...string) (string, error) {
	if p := os.Getenv("TELEGRAF"); p != "" {
		return p, nil
	}
	for _, r := range roots {
		p := filepath.Join(r, "bin", "telegraf")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// BinaryVersion is what `telegraf --version` prints, or "unknown".
func BinaryVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// Input is one kafka_consumer: the topics its regular expressions match
// (anchored, as the sink's rules are), parsed with Telegraf's avro parser
// options, written into Database.
type Input struct {
	Topics          []string
	Database        string
	RetentionPolicy string
	Timestamp       string // avro_timestamp; "" means private_efdStamp
	TimestampFormat string // avro_timestamp_format; "" means unix
	Measurement     string
	Tags, Fields    []string
	FieldSeparator  string
	// Registry is this input's avro_schema_registry; "" means
	// Config.RegistryURL (see the package documentation).
	Registry string
}

// InputOf is the input of a sink rule, database as given (a stand may
// rename it): every option Telegraf has, the registry included. The
// rule's replication separator has no Telegraf equivalent: Telegraf
// writes what its registry decodes, whatever the topic.
func InputOf(r sink.RuleSpec, database string) Input {
	return Input{
		Topics: r.Topics, Database: database, RetentionPolicy: r.RetentionPolicy,
		Timestamp: r.Timestamp, TimestampFormat: r.TimestampFormat, Measurement: r.Measurement,
		Tags: r.Tags, Fields: r.Fields, FieldSeparator: r.FieldSeparator, Registry: r.Registry,
	}
}

// Config says what Telegraf reads and where it writes.
type Config struct {
	Brokers []string
	// RegistryURL is the registry of the inputs without their own.
	RegistryURL string
	InfluxURL   string
	// InfluxOrg and InfluxToken select InfluxDB 2.x: the output is then
	// influxdb_v2, and an input's database names its bucket.
	InfluxOrg, InfluxToken string
	// InfluxUser and InfluxPassword are the influxdb output's username
	// and password (an InfluxDB 1.x with authentication on): the
	// rendered text holds the password, so its file must be private.
	InfluxUser, InfluxPassword string
	// Group is the consumer group of every input.
	Group  string
	Inputs []Input
	// Kafka is how every input authenticates to the brokers (SASL and
	// TLS, as Sasquatch's Telegraf does with its telegraf KafkaUser);
	// the zero value is PLAINTEXT.
	Kafka kafkasec.Config
	// RegistryUser and RegistryPassword are the registries' basic auth,
	// which Telegraf's avro parser takes in the registry URL's user info.
	RegistryUser, RegistryPassword string
}

// anchored is an input's topic_regexps: Telegraf matches them anywhere
// in a name (regexp MatchString), the sink's rules match whole names.
func anchored(topics []string) []string {
	out := make([]string, len(topics))
	for i, t := range topics {
		out[i] = "^(?:" + t + ")$"
	}
	return out
}

// Check says what Telegraf would get wrong of c given the topics that
// exist (Telegraf selects them once, at start): an input without a
// registry, a pattern that does not compile, and every topic that more
// than one input selects, which in one consumer group goes to one of
// them at random (see the package documentation).
func (c Config) Check(topics []string) error {
	var errs []error
	res := make([][]*regexp.Regexp, len(c.Inputs))
	for i, in := range c.Inputs {
		if in.Registry == "" && c.RegistryURL == "" {
			errs = append(errs, fmt.Errorf("input %d (%s): no schema registry", i+1, strings.Join(in.Topics, ", ")))
		}
		for j, p := range anchored(in.Topics) {
			re, err := regexp.Compile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("input %d: topic pattern %q: %w", i+1, in.Topics[j], err))
				continue
			}
			res[i] = append(res[i], re)
		}
	}
	for _, t := range topics {
		var by []string
		for i := range res {
			if slices.ContainsFunc(res[i], func(re *regexp.Regexp) bool { return re.MatchString(t) }) {
				by = append(by, strconv.Itoa(i+1))
			}
		}
		if len(by) > 1 {
			errs = append(errs, fmt.Errorf("topic %s is selected by inputs %s: in one consumer group Telegraf gives it to one of them at random", t, strings.Join(by, " and ")))
		}
	}
	return errors.Join(errs...)
}

// kafkaSecurity are an input's SASL and TLS settings (nothing for
// PLAINTEXT).
func (c Config) kafkaSecurity() string {
	k := c.Kafka
	proto := k.EffectiveProtocol()
	var b strings.Builder
	if strings.HasPrefix(proto, "SASL_") {
		fmt.Fprintf(&b, "  sasl_mechanism = %q\n  sasl_username = %q\n  sasl_password = %q\n", cmp.Or(strings.ToUpper(k.Mechanism), "SCRAM-SHA-512"), k.Username, k.Password)
	}
	if strings.HasSuffix(proto, "SSL") {
		b.WriteString("  enable_tls = true\n")
		if k.CAFile != "" {
			fmt.Fprintf(&b, "  tls_ca = %q\n", k.CAFile)
		}
		if k.CertFile != "" {
			fmt.Fprintf(&b, "  tls_cert = %q\n  tls_key = %q\n", k.CertFile, k.KeyFile)
		}
	}
	return b.String()
}

// withAuth is a registry URL with the registries' basic auth in its user
// info, where Telegraf's avro parser takes it.
func (c Config) withAuth(registry string) string {
	if c.RegistryUser == "" {
		return registry
	}
	u, err := url.Parse(registry)
	if err != nil {
		return registry
	}
	u.User = url.UserPassword(c.RegistryUser, c.RegistryPassword)
	return u.String()
}

// Text renders telegraf.conf: a kafka_consumer per input, each with its
// own registry, all in Group. Each input is tagged with its database
// (and retention policy), which the output routes by and drops. Telegraf
// matches topic_regexps against the topics that exist when it starts and
// never again, as in production, where Sasquatch restarts it for new
// topics.
func (c Config) Text() string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	list := func(xs []string) string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = q(x)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	b.WriteString(`[agent]
  interval = "1s"
  flush_interval = "100ms"
  flush_jitter = "0s"
  metric_batch_size = 5000
  precision = "1us"
  omit_hostname = true
`)
	for _, in := range c.Inputs {
		fmt.Fprintf(&b, `
[[inputs.kafka_consumer]]
  brokers = %s
  topic_regexps = %s
  consumer_group = %s
  ## Kafka 4 dropped the protocol versions Sarama uses by default.
  kafka_version = "3.9.0"
  offset = "oldest"
  data_format = "avro"
  avro_schema_registry = %s
  avro_timestamp = %s
  avro_timestamp_format = %s
  avro_field_separator = %s
`, list(c.Brokers), list(anchored(in.Topics)), q(c.Group), q(c.withAuth(cmp.Or(in.Registry, c.RegistryURL))), q(cmp.Or(in.Timestamp, "private_efdStamp")), q(cmp.Or(in.TimestampFormat, "unix")), q(in.FieldSeparator))
		b.WriteString(c.kafkaSecurity())
		if in.Measurement != "" {
			fmt.Fprintf(&b, "  avro_measurement = %s\n", q(in.Measurement))
		}
		if len(in.Tags) > 0 {
			fmt.Fprintf(&b, "  avro_tags = %s\n", list(in.Tags))
		}
		if len(in.Fields) > 0 {
			fmt.Fprintf(&b, "  avro_fields = %s\n", list(in.Fields))
		}
		fmt.Fprintf(&b, "  [inputs.kafka_consumer.tags]\n    teststand_database = %s\n", q(in.Database))
		if in.RetentionPolicy != "" {
			fmt.Fprintf(&b, "    teststand_retention_policy = %s\n", q(in.RetentionPolicy))
		}
	}
	if c.InfluxToken != "" {
		// A bucket stands for database/retention policy in 2.x; the
		// retention policy tag would be left on the points.
		fmt.Fprintf(&b, `
[[outputs.influxdb_v2]]
  urls = [%s]
  token = %s
  organization = %s
  bucket_tag = "teststand_database"
  exclude_bucket_tag = true
`, q(c.InfluxURL), q(c.InfluxToken), q(c.InfluxOrg))
		return b.String()
	}
	fmt.Fprintf(&b, `
[[outputs.influxdb]]
  urls = [%s]
  database_tag = "teststand_database"
  exclude_database_tag = true
  retention_policy_tag = "teststand_retention_policy"
  exclude_retention_policy_tag = true
  skip_database_creation = true
`, q(c.InfluxURL))
	if c.InfluxUser != "" {
		fmt.Fprintf(&b, "  username = %s\n  password = %s\n", q(c.InfluxUser), q(c.InfluxPassword))
	}
	return b.String()
}
