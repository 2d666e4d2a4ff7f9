package telegraf

import (
	"strings"
	"testing"
)

// TestTextOutputs checks the output Telegraf is given for each InfluxDB
// major version: 1.x routed by database and retention policy tags, 2.x
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
			[]string{"influxdb_v2", "token"}},
		{"influxdb 2", Config{Brokers: []string{"k:9092"}, RegistryURL: "http://r", InfluxURL: "http://i", InfluxOrg: "teststand", InfluxToken: "s3cret", Group: "g", Inputs: in},
			[]string{"[[outputs.influxdb_v2]]", `token = "s3cret"`, `organization = "teststand"`, `bucket_tag = "teststand_database"`, "exclude_bucket_tag = true"},
			[]string{"[[outputs.influxdb]]", "database_tag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := c.cfg.Text()
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
