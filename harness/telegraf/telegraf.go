// Package telegraf configures and finds real Telegraf, the EFD's sink in
// production, so that stands and conformance tests can run it beside the
// project's sink: a kafka_consumer with the avro parser per input, and
// one influxdb output routing by database, as Sasquatch configures it
// (influxdb_v2 routing by bucket for InfluxDB 2.x).
package telegraf

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
}

// Config says what Telegraf reads and where it writes.
type Config struct {
	Brokers     []string
	RegistryURL string
	InfluxURL   string
	// InfluxOrg and InfluxToken select InfluxDB 2.x: the output is then
	// influxdb_v2, and an input's database names its bucket.
	InfluxOrg, InfluxToken string
	Group                  string
	Inputs                 []Input
}

// Text renders telegraf.conf. Each input is tagged with its database
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
		anchored := make([]string, len(in.Topics))
		for i, t := range in.Topics {
			anchored[i] = "^(?:" + t + ")$"
		}
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
`, list(c.Brokers), list(anchored), q(c.Group), q(c.RegistryURL), q(cmp.Or(in.Timestamp, "private_efdStamp")), q(cmp.Or(in.TimestampFormat, "unix")), q(in.FieldSeparator))
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
	return b.String()
}
