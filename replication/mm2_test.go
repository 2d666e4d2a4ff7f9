package replication

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestHeartbeatBytes(t *testing.T) {
	h := Heartbeat{SourceAlias: "summit", TargetAlias: "usdf", Timestamp: time.UnixMilli(0x0102030405)}
	wantKey := []byte("\x00\x06summit\x00\x04usdf")
	wantValue := []byte{0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05}
	if !bytes.Equal(h.Key(), wantKey) || !bytes.Equal(h.Value(), wantValue) {
		t.Fatalf("key %q value %v; want %q %v", h.Key(), h.Value(), wantKey, wantValue)
	}
	back, err := ParseHeartbeat(h.Key(), h.Value())
	if err != nil || back.SourceAlias != "summit" || back.TargetAlias != "usdf" || !back.Timestamp.Equal(h.Timestamp) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	bad := []struct{ key, value []byte }{
		{[]byte("\x00"), wantValue},
		{[]byte("\x00\x09summit"), wantValue},
		{append(wantKey, 0), wantValue},
		{wantKey, wantValue[:9]},
		{wantKey, append([]byte{0, 1}, wantValue[2:]...)},
	}
	for i, b := range bad {
		if _, err := ParseHeartbeat(b.key, b.value); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

const sasquatchLike = `# MirrorMaker 2 as Sasquatch runs it at the USDF
clusters = summit, usdf
summit.bootstrap.servers = s1:9092,s2:9092
usdf.bootstrap.servers: u1:9092
summit.security.protocol = SASL_PLAINTEXT
summit.sasl.mechanism = SCRAM-SHA-512
summit.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="replicator" password="s3cret";
summit->usdf.enabled = true
summit->usdf.topics = lsst.sal.*, registry-schemas
replication.policy.separator = .
refresh.topics.interval.seconds = 2.5
sync.topic.configs.enabled = false
emit.checkpoints.enabled = false
tasks.max = 4
`

func TestParseMM2(t *testing.T) {
	props, err := ReadProperties(strings.NewReader(sasquatchLike))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := NewMM2Config("mm2.properties", props, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Flows) != 1 {
		t.Fatalf("flows %+v, want summit->usdf only", cfg.Flows)
	}
	f := cfg.Flows[0]
	if f.SourceAlias != "summit" || f.TargetAlias != "usdf" || strings.Join(f.SourceBrokers, ",") != "s1:9092,s2:9092" ||
		strings.Join(f.TargetBrokers, ",") != "u1:9092" || strings.Join(f.Topics, "|") != "lsst.sal.*|registry-schemas" ||
		f.TopicsExclude != nil || f.Policy != "default" || f.Separator != "." || f.RefreshInterval != 2500*time.Millisecond ||
		f.SyncConfigsInterval >= 0 {
		t.Errorf("flow %+v", f)
	}
	// Both pairs emit heartbeats: usdf->summit's go into the summit and
	// reach the USDF as summit.heartbeats.
	if len(cfg.Heartbeats) != 2 || cfg.Heartbeats[0].SourceAlias != "summit" || cfg.Heartbeats[1].SourceAlias != "usdf" ||
		cfg.Heartbeats[1].TargetAlias != "summit" || cfg.Heartbeats[1].Interval != time.Second {
		t.Errorf("heartbeats %+v", cfg.Heartbeats)
	}
	sec := cfg.Security["summit"]
	if sec.Username != "replicator" || sec.Password != "s3cret" || sec.Mechanism != "SCRAM-SHA-512" || sec.Protocol != "SASL_PLAINTEXT" {
		t.Errorf("summit security %+v", sec)
	}
	if strings.Join(cfg.Ignored, ",") != "emit.checkpoints.enabled,tasks.max" {
		t.Errorf("ignored %v", cfg.Ignored)
	}
}

// TestParseMM2JavaPatterns: a properties file's topics are Java
// patterns, negative lookahead included, as deployed.
func TestParseMM2JavaPatterns(t *testing.T) {
	text := "clusters = summit, usdf\nsummit.bootstrap.servers = a:1\nusdf.bootstrap.servers = b:1\n" +
		"summit->usdf.enabled = true\nsummit->usdf.topics = registry-schemas, lsst\\.sal\\.(?!MTM1M3|MTMount).*\n"
	props, err := ReadProperties(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := NewMM2Config("mm2.properties", props, nil)
	if err != nil {
		t.Fatal(err)
	}
	fc := cfg.Flows[0]
	flow, err := NewFlow(fc.SourceAlias, fc.TargetAlias, fc.Topics, fc.TopicsExclude, fc.Policy, fc.Separator)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]bool{"registry-schemas": true, "lsst.sal.ATDome.position": true, "lsst.sal.MTM1M3.x": false, "lsst.sal.MTMount.y": false} {
		if got := flow.Replicates(topic); got != want {
			t.Errorf("replicates %s: %v, want %v", topic, got, want)
		}
	}
}

func TestParseMM2Errors(t *testing.T) {
	base := "clusters = summit, usdf\nsummit.bootstrap.servers = a:1\nusdf.bootstrap.servers = b:1\n"
	cases := []struct{ name, text, want string }{
		{"no clusters", "summit->usdf.enabled = true\n", `no "clusters" key`},
		{"one cluster", "clusters = summit\n", "want at least two"},
		{"typo in flow key", base + "summit->usdf.enabled = true\nsummit->usdf.topcs = x\n", `mm2.properties:5: summit->usdf.topcs: unknown flow setting "topcs"`},
		{"unknown cluster in flow", base + "summit->base.enabled = true\n", `mm2.properties:4: summit->base.enabled: flow "summit->base"`},
		{"unknown key", base + "summit->usdf.enabled = true\nrefresh.topic.interval.seconds = 5\n", `mm2.properties:5: unknown key "refresh.topic.interval.seconds"`},
		{"bad bool", base + "summit->usdf.enabled = yes please\n", `mm2.properties:4: summit->usdf.enabled: "yes please" is not true or false`},
		{"bad seconds", base + "summit->usdf.enabled = true\nsummit->usdf.refresh.topics.interval.seconds = -1\n", "mm2.properties:5: summit->usdf.refresh.topics.interval.seconds"},
		{"bad regex", base + "summit->usdf.enabled = true\nsummit->usdf.topics = (\n", "mm2.properties:5: flow summit->usdf"},
		{"unclosed Java lookahead", base + "summit->usdf.enabled = true\nsummit->usdf.topics = lsst\\.sal\\.(?!MTM1M3.*\n", "mm2.properties:5: flow summit->usdf"},
		{"bad policy", base + "summit->usdf.enabled = true\nreplication.policy.class = com.example.Mine\n", "mm2.properties:5: replication.policy.class"},
		{"nothing enabled", base, "no flow is enabled"},
		{"no brokers", "clusters = summit, usdf\nsummit->usdf.enabled = true\n", "no summit.bootstrap.servers"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "mm2.properties")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ParseMM2(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestRunMM2TwoWay runs summit<->usdf from a properties file: each site's
// topic appears once at the other, renamed, never sent back, and each
// site has its heartbeats and the other's.
func TestRunMM2TwoWay(t *testing.T) {
	summit, usdf := cluster(t), cluster(t)
	ctx := context.Background()
	for _, c := range []struct {
		cl    interface{ ListenAddrs() []string }
		topic string
	}{{summit, "lsst.sal.ATDome.position"}, {usdf, "lsst.sal.Test.scalars"}} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.cl.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, c.topic); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: c.topic, Value: []byte(c.topic)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}
	text := "clusters = summit, usdf\n" +
		"summit.bootstrap.servers = " + strings.Join(summit.ListenAddrs(), ",") + "\n" +
		"usdf.bootstrap.servers = " + strings.Join(usdf.ListenAddrs(), ",") + "\n" +
		"summit->usdf.enabled = true\nusdf->summit.enabled = true\n" +
		"refresh.topics.interval.seconds = 0.2\nemit.heartbeats.interval.seconds = 0.1\n"
	path := filepath.Join(t.TempDir(), "mm2.properties")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseMM2(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Flows {
		cfg.Flows[i].SourceOpts = []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)}
	}
	m := NewMetrics()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- RunMM2(rctx, cfg, m, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	got := consumeAll(t, usdf, "summit.lsst.sal.ATDome.position", 1)
	if string(got[0].Value) != "lsst.sal.ATDome.position" {
		t.Errorf("value %q", got[0].Value)
	}
	consumeAll(t, summit, "usdf.lsst.sal.Test.scalars", 1)
	beats := consumeAll(t, usdf, "summit.heartbeats", 1)
	h, err := ParseHeartbeat(beats[0].Key, beats[0].Value)
	if err != nil || h.SourceAlias != "usdf" || h.TargetAlias != "summit" {
		t.Errorf("summit.heartbeats at usdf: %+v, %v; want usdf->summit heartbeats", h, err)
	}
	consumeAll(t, summit, "usdf.heartbeats", 1)
	// Two discoveries of each flow after the replicas existed, each shown
	// by a new topic it replicated: a flow that sends replicas back would
	// have made one in the first, which had ended before the second began.
	for i := range 2 {
		for _, w := range []struct {
			from, to *kfake.Cluster
			alias    string
		}{{summit, usdf, "summit"}, {usdf, summit, "usdf"}} {
			topic := fmt.Sprintf("lsst.sal.Witness.d%d", i)
			cl, err := kgo.NewClient(kgo.SeedBrokers(w.from.ListenAddrs()...))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
				t.Fatal(err)
			}
			err = cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(topic)}).FirstErr()
			cl.Close()
			if err != nil {
				t.Fatal(err)
			}
			consumeAll(t, w.to, w.alias+"."+topic, 1)
		}
	}
	for _, c := range []struct {
		cl   interface{ ListenAddrs() []string }
		site string
	}{{summit, "summit"}, {usdf, "usdf"}} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.cl.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		td, err := kadm.NewClient(cl).ListTopics(ctx)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range td.Names() {
			if strings.HasPrefix(name, "summit.usdf.") || strings.HasPrefix(name, "usdf.summit.") {
				t.Errorf("%s has %s: a replica was sent back", c.site, name)
			}
		}
	}
}

func TestReadProperties(t *testing.T) {
	cases := []struct {
		text       string
		key, value string
		line       int
	}{
		{"a = b", "a", "b", 1},
		{"a:b", "a", "b", 1},
		{"a b c", "a", "b c", 1},
		{"\n# comment\n! also\n  a.b  =  x  ", "a.b", "x", 4},
		{`topics = lsst\\.sal\\..*`, "topics", `lsst\.sal\..*`, 1},
		{`topics = lsst\.sal\..*`, "topics", `lsst.sal..*`, 1},
		{"k = one, \\\n    two", "k", "one, two", 1},
		{`x\=y = z`, "x=y", "z", 1},
		{`u = \u00e9t\u00e9`, "u", "été", 1},
		{"flag", "flag", "", 1},
	}
	for _, c := range cases {
		props, err := ReadProperties(strings.NewReader(c.text))
		if err != nil || len(props) != 1 {
			t.Errorf("%q: %v, %v", c.text, props, err)
			continue
		}
		if p := props[0]; p.Key != c.key || p.Value != c.value || p.Line != c.line {
			t.Errorf("%q: got %q=%q line %d, want %q=%q line %d", c.text, p.Key, p.Value, p.Line, c.key, c.value, c.line)
		}
	}
}
