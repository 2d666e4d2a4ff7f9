package sasquatch

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestRewrite: a consumer's rendered telegraf.conf, pointed at a stand,
// reads back as the same consumer with the stand's endpoints, and keeps
// no credential, no other input and no output of Telegraf's own metrics;
// pointed at an InfluxDB with authentication on, its outputs take the
// stand's credentials instead of the deployment's.
func TestRewrite(t *testing.T) {
	d, err := Load(context.Background(), Chart{Dir: "testdata/chart", Env: "usdf"})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Consumer("test")
	text, err := c.Rewrite(Endpoints{Brokers: []string{"127.0.0.1:9092"}, Registry: "http://127.0.0.1:8081", InfluxURL: "http://127.0.0.1:8086",
		Database: func(db string) string { return "s1_usdf_" + db }})
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"sasl_", "inputs.internal", "sasquatch-kafka-brokers", "sasquatch-influxdb", "sasquatch-schema-registry"} {
		if strings.Contains(text, gone) {
			t.Errorf("rewritten config still has %q:\n%s", gone, text)
		}
	}
	back, err := ParseTelegraf("test", "rewritten", text)
	if err != nil || len(back) != 1 {
		t.Fatalf("%v %v\n%s", back, err, text)
	}
	b := back[0]
	if !slices.Equal(b.Brokers, []string{"127.0.0.1:9092"}) || b.Registry != "http://127.0.0.1:8081" || !slices.Equal(b.Databases, []string{"s1_usdf_efd"}) ||
		!slices.Equal(b.Outputs, []string{"http://127.0.0.1:8086"}) {
		t.Errorf("endpoints %+v", b)
	}
	b.Brokers, b.Registry, b.Databases, b.Outputs, b.File, b.Conf = c.Brokers, c.Registry, c.Databases, c.Outputs, c.File, c.Conf
	if b.Group != c.Group || b.MaxUndelivered != c.MaxUndelivered || b.Precision != c.Precision || b.Timestamp != c.Timestamp ||
		b.MetricBatchSize != c.MetricBatchSize || b.FlushInterval != c.FlushInterval || b.KafkaVersion != c.KafkaVersion ||
		b.TopicRegexps[0].String() != c.TopicRegexps[0].String() || b.UnionMode != c.UnionMode || b.Offset != c.Offset {
		t.Errorf("rewritten consumer %+v\nwant %+v", b, c)
	}
	if strings.Contains(text, "username") || strings.Contains(text, "password") {
		t.Errorf("an open InfluxDB's outputs have credentials:\n%s", text)
	}
	authed, err := c.Rewrite(Endpoints{Brokers: []string{"127.0.0.1:9092"}, Registry: "http://127.0.0.1:8081", InfluxURL: "http://127.0.0.1:8086",
		Database: func(db string) string { return db }, InfluxUser: "teststand", InfluxPassword: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(authed, `username = "teststand"`) || !strings.Contains(authed, `password = "pw"`) || strings.Contains(authed, "${INFLUXDB") {
		t.Errorf("outputs without the stand's credentials:\n%s", authed)
	}
}
