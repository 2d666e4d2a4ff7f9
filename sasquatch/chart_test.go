package sasquatch

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFixtureChart renders the project's own chart in Sasquatch's shape
// for a summit and a USDF and reads every layer back.
func TestFixtureChart(t *testing.T) {
	ctx := context.Background()
	summit, err := Load(ctx, Chart{Dir: "testdata/chart", Env: "summit"})
	if err != nil {
		t.Fatal(err)
	}
	usdf, err := Load(ctx, Chart{Dir: "testdata/chart", Env: "usdf"})
	if err != nil {
		t.Fatal(err)
	}
	k := summit.Kafka
	if k == nil || k.AutoCreateTopics() || k.TimestampType() != "LogAppendTime" || k.Retention() != 7*24*time.Hour || k.Version != "4.1.0" {
		t.Errorf("summit kafka %+v", k)
	}
	var topics []string
	for _, tp := range summit.Topics {
		topics = append(topics, tp.Name)
	}
	if !slices.Equal(topics, []string{"lsst.obsenv.action", "registry-schemas"}) || summit.Topics[1].Config["cleanup.policy"] != "compact" {
		t.Errorf("summit topics %+v", summit.Topics)
	}
	if !slices.Equal(summit.RestPrefixes, []string{"lsst.dm"}) {
		t.Errorf("rest prefixes %v", summit.RestPrefixes)
	}
	if len(summit.Registries) != 1 || summit.Registries[0].Remote() != "" || len(summit.Mirrors) != 0 {
		t.Errorf("summit registries %+v, mirrors %d", summit.Registries, len(summit.Mirrors))
	}
	c := summit.Consumer("test")
	if c == nil {
		t.Fatalf("summit consumers %v", summit.Consumers)
	}
	if c.Group != "telegraf-kafka-consumer-test" || c.DataFormat != "avro" || c.Precision != time.Microsecond || c.Timestamp != "private_efdStamp" ||
		c.TimestampFormat != "unix" || c.UnionMode != "nullable" || !slices.Equal(c.Tags, []string{"salIndex"}) || c.MetricBatchSize != 1000 ||
		c.FlushInterval != time.Second || c.MaxUndelivered != 10000 || c.KafkaVersion != "3.9.1" || !slices.Equal(c.Databases, []string{"efd"}) ||
		len(c.Unsupported) != 0 || c.Offset != "oldest" {
		t.Errorf("summit consumer test %+v", c)
	}
	// Telegraf's topic_regexps match anywhere in the name.
	if !c.Matches("lsst.sal.Test.logevent_heartbeat") || !c.Matches("summit.lsst.sal.Test.x") || c.Matches("lsst.sal.ATDome.position") {
		t.Errorf("topic_regexps %v", c.TopicRegexps)
	}
	if len(usdf.Registries) != 2 {
		t.Fatalf("usdf registries %+v", usdf.Registries)
	}
	remote := usdf.RegistryFor(usdf.Consumer("test").Registry)
	if remote == nil || remote.Remote() != "summit" || remote.Topic != "summit.registry-schemas" {
		t.Errorf("usdf test consumer's registry %+v (url %s)", remote, usdf.Consumer("test").Registry)
	}
	if local := usdf.RegistryFor(usdf.Consumer("dm").Registry); local == nil || local.Remote() != "" {
		t.Errorf("usdf dm consumer's registry %+v", local)
	}
	if len(usdf.Mirrors) != 1 {
		t.Fatalf("usdf mirrors %+v", usdf.Mirrors)
	}
	m := usdf.Mirrors[0]
	if m.Source != "summit" || m.Target != "target" || m.Policy != "default" || m.Separator != "." || m.Refresh != time.Minute || !m.Heartbeats || m.Checkpoints {
		t.Errorf("mirror %+v", m)
	}
	// topicsPattern: Java, the whole name, negative lookahead.
	for topic, want := range map[string]bool{"lsst.sal.ATDome.position": true, "lsst.sal.MTM1M3.x": false, "registry-schemas": true, "lsst.dm.m": true, "x.lsst.dm.m": false} {
		if got := m.Flow.Replicates(topic); got != want {
			t.Errorf("mirror replicates %s: %v, want %v", topic, got, want)
		}
	}
	if got := m.Flow.RemoteTopic("lsst.sal.ATDome.position"); got != "summit.lsst.sal.ATDome.position" {
		t.Errorf("remote topic %s", got)
	}
	if !strings.HasSuffix(usdf.Files[0], "values-usdf.yaml") {
		t.Errorf("files %v", usdf.Files)
	}
}
