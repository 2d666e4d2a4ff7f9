package telegraf

import (
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/sink"
)

// TestTextOutputs checks the output Telegraf is given for each InfluxDB
// major version: 1.x routed by database and retention policy tags, with
// the username and password of an InfluxDB with authentication on, 2.x
// by a bucket tag with the token and organization. (Real Telegraf reads
// both in the conformance features.)
func TestTextOutputs(t *testing.T) {
	in := []Input{{Topics: []string{`summit\.lsst\.sal\..*`}, Database: "efd"}}
	cases := []struct {
		name      string
		cfg       Config
		want, not []string
	}{
		{"influxdb 1", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", Group: "g", Inputs: in},
			[]string{"[[outputs.influxdb]]", `database_tag = "teststand_database"`, `teststand_database = "efd"`, `topic_regexps = ["^(?:summit\\.lsst\\.sal\\..*)$"]`},
			[]string{"influxdb_v2", "token", "username", "password"}},
		{"influxdb 1 with authentication", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", InfluxUser: "teststand", InfluxPassword: "pw", Group: "g", Inputs: in},
			[]string{"[[outputs.influxdb]]", `username = "teststand"`, `password = "pw"`},
			[]string{"influxdb_v2", "token"}},
		{"influxdb 2", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", InfluxOrg: "teststand", InfluxToken: "s3cret", Group: "g", Inputs: in},
			[]string{"[[outputs.influxdb_v2]]", `token = "s3cret"`, `organization = "teststand"`, `bucket_tag = "teststand_database"`, "exclude_bucket_tag = true"},
			[]string{"[[outputs.influxdb]]", "database_tag"}},
		{"SASL_SSL", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r:8081", InfluxURL: "http://i", Group: "g", Inputs: in,
			Kafka:        kafkasec.Config{Protocol: "SASL_SSL", Username: "telegraf", Password: "p4ss", CAFile: "/s/ca.pem"},
			RegistryUser: "teststand", RegistryPassword: "r3g"},
			[]string{`sasl_mechanism = "SCRAM-SHA-512"`, `sasl_username = "telegraf"`, `sasl_password = "p4ss"`, "enable_tls = true", `tls_ca = "/s/ca.pem"`,
				`avro_schema_registry = "http://teststand:r3g@r:8081"`},
			[]string{"tls_cert"}},
		{"SASL_PLAINTEXT", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", Group: "g", Inputs: in,
			Kafka: kafkasec.Config{Username: "telegraf", Password: "p4ss"}},
			[]string{`sasl_username = "telegraf"`, `avro_schema_registry = "http://r"`},
			[]string{"enable_tls", "tls_ca"}},
		{"plaintext", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", Group: "g", Inputs: in},
			[]string{`brokers = ["k:9092"]`},
			[]string{"sasl", "tls"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := c.cfg.Text()
			var parsed map[string]any
			if _, err := toml.Decode(text, &parsed); err != nil {
				t.Fatalf("not TOML: %v\n%s", err, text)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in\n%s", w, text)
				}
			}
			for _, n := range c.not {
				if strings.Contains(text, n) {
					t.Errorf("unexpected %q in\n%s", n, text)
				}
			}
		})
	}
}

// TestTextRegistryPerInput: rules on different registries are separate
// kafka_consumer inputs, each with its own avro_schema_registry (the
// config's for an input without one), all in the config's group.
func TestTextRegistryPerInput(t *testing.T) {
	cfg := Config{Brokers: []string{"k:9092"}, RegistryURL: "http://local:8081", InfluxURL: "http://i", Group: "telegraf-kafka-consumer-efd", Inputs: []Input{
		{Topics: []string{`summit\.lsst\.sal\..*`}, Database: "efd", Registry: "http://remote:8081"},
		{Topics: []string{`lsst\.sal\..*`}, Database: "efd"},
	}}
	blocks := strings.Split(cfg.Text(), "[[inputs.kafka_consumer]]")[1:]
	if len(blocks) != 2 {
		t.Fatalf("%d kafka_consumer inputs, want 2:\n%s", len(blocks), cfg.Text())
	}
	want := []struct{ topics, registry string }{
		{`["^(?:summit\\.lsst\\.sal\\..*)$"]`, "http://remote:8081"},
		{`["^(?:lsst\\.sal\\..*)$"]`, "http://local:8081"},
	}
	for i, w := range want {
		for _, line := range []string{"topic_regexps = " + w.topics, `avro_schema_registry = "` + w.registry + `"`, `consumer_group = "telegraf-kafka-consumer-efd"`} {
			if !strings.Contains(blocks[i], "  "+line+"\n") {
				t.Errorf("input %d: no %q in\n%s", i+1, line, blocks[i])
			}
		}
		if n := strings.Count(blocks[i], "avro_schema_registry"); n != 1 {
			t.Errorf("input %d: %d registries", i+1, n)
		}
	}
}

// TestCheck: what Telegraf would get wrong is said before it runs: a
// topic two inputs select (one group gives it to either at random), an
// input with no registry, a pattern that does not compile. Patterns are
// anchored, so the local rule does not select the replicas.
func TestCheck(t *testing.T) {
	topics := []string{"lsst.sal.ATDome.position", "summit.lsst.sal.ATDome.position", "summit.lsst.dm.psfSize"}
	remote := Input{Topics: []string{`summit\.lsst\..*`}, Database: "efd", Registry: "http://remote:8081"}
	cases := []struct {
		name     string
		registry string
		inputs   []Input
		want     []string // in the error; none means no error
	}{
		{"local and remote, disjoint", "http://local:8081", []Input{remote, {Topics: []string{`lsst\.sal\..*`}, Database: "efd"}}, nil},
		{"every input its own registry", "", []Input{remote, {Topics: []string{`lsst\..*`}, Database: "efd", Registry: "http://local:8081"}}, nil},
		{"a local rule matching anywhere", "http://local:8081", []Input{remote, {Topics: []string{`.*lsst\.sal\..*`}, Database: "efd"}},
			[]string{"topic summit.lsst.sal.ATDome.position is selected by inputs 1 and 2"}},
		{"overlap on one topic of three inputs", "http://local:8081", []Input{remote, {Topics: []string{`lsst\.sal\..*`}, Database: "efd"}, {Topics: []string{`summit\.lsst\.dm\..*`}, Database: "dm"}},
			[]string{"topic summit.lsst.dm.psfSize is selected by inputs 1 and 3"}},
		{"no registry", "", []Input{remote, {Topics: []string{`lsst\.sal\..*`}, Database: "efd"}}, []string{`input 2 (lsst\.sal\..*): no schema registry`}},
		{"bad pattern", "http://local:8081", []Input{{Topics: []string{`(`}, Database: "efd"}}, []string{`input 1: topic pattern "(": error parsing regexp`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Config{RegistryURL: c.registry, Inputs: c.inputs}.Check(topics)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want %q", err, w)
				}
			}
		})
	}
}

// TestInputOf: every option of a rule that Telegraf has reaches its
// input; a field added to Input and forgotten here fails.
func TestInputOf(t *testing.T) {
	r := sink.RuleSpec{
		Topics: []string{"x"}, Database: "ignored", RetentionPolicy: "rp", Measurement: "m", Timestamp: "ts", TimestampFormat: "unix_ms",
		Precision: "1us", Tags: []string{"t"}, Fields: []string{"f"}, FieldSeparator: "_", Registry: "http://remote:8081", ReplicationSeparator: ".",
	}
	in := InputOf(r, "efd_telegraf")
	v := reflect.ValueOf(in)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("Input.%s not set from the rule", v.Type().Field(i).Name)
		}
	}
	if in.Database != "efd_telegraf" || in.Registry != r.Registry {
		t.Errorf("%+v", in)
	}
}
