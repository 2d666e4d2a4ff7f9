package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/replication"
)

func TestParseErrors(t *testing.T) {
	base := "version: 1\nsites:\n  summit:\n    kafka: {brokers: 1}\n    registry: {}\n  usdf:\n    registry: {remote: summit}\n    influxdb: {databases: [efd]}\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown top key", "version: 1\nbogus: 1\n", `s.yaml:2: unknown key "bogus" in the stand`},
		{"wrong type", "version: one\n", "s.yaml:1:"},
		{"bad version", "version: 2\nsites: {a: {}}\n", "this teststand reads version 1"},
		{"no sites", "version: 1\n", "no sites defined"},
		{"unknown site", base + "producers:\n  - {site: moon, cscs: [ATDome]}\n", `s.yaml:10:12: producer "producer-1": unknown site "moon"`},
		{"unknown csc", base + "producers:\n  - site: summit\n    cscs: [ATDome, Nope]\n", `s.yaml:11:20: producer "producer-1": unknown CSC "Nope"`},
		{"index on unindexed", base + "producers:\n  - site: summit\n    cscs: [ATDome:1]\n", `ATDome is not indexed`},
		{"bad index", base + "producers:\n  - site: summit\n    cscs: [MTHexapod:x]\n", `want CSC:N with N > 0`},
		{"bad remote", "version: 1\nsites:\n  a:\n    registry: {remote: b}\n", `s.yaml:4:24: site "a": remote registry "b": unknown site "b"`},
		{"sink without influx", base + "sinks:\n  - {site: summit, topics: [x]}\n", `site "summit" has no influxdb`},
		{"sink db missing", base + "sinks:\n  - {site: usdf, topics: [x], database: dm}\n", `database "dm" is not among`},
		{"bad regex", base + "sinks:\n  - {site: usdf, topics: ['(']}\n", `topic pattern "("`},
		{"bad duration", base + "replication:\n  - {source: summit, target: usdf, refresh: soon}\n", `s.yaml:10: duration "soon"`},
		{"same site flow", base + "replication:\n  - {source: summit, target: summit}\n", `source and target are the same site`},
		{"rf too high", base + "producers:\n  - {site: summit, cscs: [ATDome], replication_factor: 3}\n", `replication_factor 3 exceeds the site's 1 brokers`},
		{"bad wait_ack", base + "producers:\n  - {site: summit, cscs: [ATDome], wait_ack: two}\n", `wait_ack "two"`},
		{"backend", "version: 1\nbackend: moon\nsites: {a: {}}\n", `backend "moon"`},
		{"sink rules and topics", base + "sinks:\n  - {site: usdf, topics: [x], rules: [{topics: [y], database: efd}]}\n", `s.yaml:10:12: sink "sink-1": topics/database and rules exclude each other`},
		{"sink rule bad format", base + "sinks:\n  - {site: usdf, rules: [{topics: [y], database: efd, timestamp_format: unix_s}]}\n", `timestamp format "unix_s"`},
		{"sink bad run", base + "sinks:\n  - {site: usdf, topics: [x], run: docker}\n", `run "docker"`},
		{"traffic domain", base + "producers:\n  - {site: summit, cscs: [ATDome]}\ntraffic:\n  - {profile: ../scenarios/profiles/nominal-summit.yaml, domain: 7}\n", `s.yaml: traffic 1: no producer of the stand serves domain 7`},
		{"traffic profile", base + "producers:\n  - {site: summit, cscs: [ATDome]}\ntraffic:\n  - {profile: nope, domain: 0}\n", `s.yaml: traffic 1: `},
		{"fault without flow", base + "faults:\n  - {link: {from: summit, to: usdf}, delay: 100ms}\n", `s.yaml:10:19: fault on the link summit->usdf: no replication flow this stand can slow runs over it`},
		{"fault on a MirrorMaker 2 flow", "version: 1\nbackend: process\nsites: {summit: {}, usdf: {}}\nreplication:\n  - {source: summit, target: usdf, run: mirrormaker2}\nfaults:\n  - {link: {from: summit, to: usdf}, delay: 100ms}\n", `fault on the link summit->usdf: no replication flow this stand can slow runs over it`},
		{"fault unknown site", base + "faults:\n  - {link: {from: moon, to: usdf}, delay: 100ms}\n", `unknown site "moon"`},
		{"mm2 on embedded", base + "replication:\n  - {source: summit, target: usdf, run: mirrormaker2}\n", `s.yaml:10:14: replication flow "summit->usdf": run mirrormaker2: real MirrorMaker 2 needs real Kafka: backend process`},
		{"telegraf on embedded", base + "sinks:\n  - {site: usdf, topics: [x], run: telegraf}\n", `s.yaml:10:12: sink "sink-1": run telegraf: Telegraf's Kafka client (Sarama) needs real Kafka: backend process`},
		{"bootstrap on process", "version: 1\nbackend: process\nsites:\n  a: {kafka: {bootstrap: 'h:1'}}\n", `site "a": kafka.bootstrap is for the external backend; the process backend starts its own`},
		{"fault no delay", base + "replication:\n  - {source: summit, target: usdf}\nfaults:\n  - {link: {from: summit, to: usdf}}\n", `give a delay`},
		{"mm2 typo", base + "mirrormaker:\n  summit->usdf.enabled: true\n  summit->usdf.topcs: x\n", `s.yaml:11: summit->usdf.topcs: unknown flow setting "topcs"`},
		{"mm2 unknown cluster", base + "mirrormaker:\n  clusters: summit, moon\n  summit->moon.enabled: true\n", `s.yaml:10: mirrormaker: cluster "moon" is not a site`},
		{"mm2 bootstrap", base + "mirrormaker:\n  summit->usdf.enabled: true\n  usdf.bootstrap.servers: x:1\n", `s.yaml:11: mirrormaker: usdf.bootstrap.servers: a stand's clusters are its sites`},
		{"mm2 and flows", base + "replication:\n  - {source: summit, target: usdf}\nmirrormaker:\n  summit->usdf.enabled: true\n", `s.yaml:12: replication and mirrormaker exclude each other`},
		{"mm2 bad bool", base + "mirrormaker:\n  summit->usdf.enabled: maybe\n", `s.yaml:10: summit->usdf.enabled: "maybe" is not true or false`},
		{"mm2 not a map", base + "mirrormaker: [a]\n", `s.yaml:9`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.yaml), LoadOptions{})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "s.yaml") {
				t.Fatalf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestParseDefaultStand(t *testing.T) {
	st, err := Load("../scenarios/summit-usdf.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.RemoteRegistryTopic("usdf", "summit"); got != "summit.registry-schemas" || err != nil {
		t.Errorf("usdf's remote registry for summit reads %q (%v), want summit.registry-schemas", got, err)
	}
	if got := st.Replication[0].Name; got != "summit->usdf" {
		t.Errorf("flow name %q", got)
	}
	if st.Loaded.Component("ATDome") == nil {
		t.Error("ATDome not loaded from the builtin interfaces")
	}
	// The stand's replication is written as MM2 properties.
	f := st.Replication[0]
	if f.Source.Value != "summit" || f.Target.Value != "usdf" || f.Policy != "default" ||
		strings.Join(f.Topics, " ") != `lsst\.sal\..* registry-schemas` || f.Refresh.Duration != 500*time.Millisecond {
		t.Errorf("flow from the mirrormaker block: %+v", f)
	}
	beats := map[string]bool{}
	for _, h := range st.Heartbeats {
		beats[h.Source+"->"+h.Target] = h.Interval == time.Second
	}
	if !beats["summit->usdf"] || !beats["usdf->summit"] || len(beats) != 2 {
		t.Errorf("heartbeat pairs %v: want both pairs at 1 s, as MM2", beats)
	}
	if w := st.Warnings(); len(w) != 0 {
		t.Errorf("default stand warnings: %v", w)
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		{"../scenarios/identity.yaml", `copies summit's registry storage "registry-schemas" onto usdf's own registry topic "registry-schemas"`},
		{"../scenarios/two-way.yaml", ""},
		{"../scenarios/summit-usdf.yaml", ""},
	}
	for _, c := range cases {
		st, err := Load(c.file, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(st.Warnings(), "\n")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: warnings %q, want %q", c.file, got, c.want)
		}
	}
}

// TestExtends overlays a stand on the default one: mappings merge, named
// list items merge by name, errors name the file and line they are in.
func TestExtends(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base, err := os.ReadFile("../scenarios/summit-usdf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write("base.yaml", string(base))
	over := write("over.yaml", "extends: base.yaml\nname: overlay\nsites:\n  usdf:\n    influxdb: {databases: [efd, dm]}\nproducers:\n  - name: test-salkafka\n    domain: 13\n  - name: extra\n    site: summit\n    cscs: [ATDome]\n")
	st, err := Load(over, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "overlay" || len(st.Sites["usdf"].InfluxDB.Databases) != 2 || st.Sites["usdf"].Registry == nil {
		t.Errorf("sites not merged: name %q, usdf %+v", st.Name, st.Sites["usdf"])
	}
	byName := map[string]*ProducerSpec{}
	for _, p := range st.Producers {
		byName[p.Name] = p
	}
	if len(st.Producers) != 3 || byName["test-salkafka"].Domain != 13 || byName["test-salkafka"].Run != "binary" || byName["extra"] == nil {
		t.Errorf("producers not merged by name: %d, test-salkafka %+v", len(st.Producers), byName["test-salkafka"])
	}
	if len(st.Replication) != 1 || len(st.Sinks) != 1 {
		t.Errorf("the base's flows and sinks were lost")
	}
	cases := []struct{ name, text, want string }{
		{"unknown key in the overlay", "extends: base.yaml\nsites:\n  usdf:\n    zookeeper: 1\n", "bad.yaml:4: unknown key \"zookeeper\" in a site"},
		{"missing base", "extends: nope.yaml\n", "bad.yaml: extends: open"},
		{"loop", "extends: bad.yaml\n", "extends loops"},
		{"error in the base's line", "extends: base.yaml\nproducers:\n  - name: summit-salkafka\n    site: moon\n", "bad.yaml:4:11: producer \"summit-salkafka\": unknown site \"moon\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write("bad.yaml", c.text), LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	// An error in a node that came from the base names the base.
	write("base2.yaml", strings.Replace(string(base), "domain: 12", "domain: 12\n    wait_ack: two", 1))
	_, err = Load(write("over2.yaml", "extends: base2.yaml\nname: x\n"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "base2.yaml:") || !strings.Contains(err.Error(), `wait_ack "two"`) {
		t.Errorf("error %v, want one naming base2.yaml and the wait_ack", err)
	}
}

// TestMirrorMakerFile reads replication from an MM2 properties file as
// deployed: its connection settings are left out, its flows are the
// stand's, and an error in it names the file and line.
func TestMirrorMakerFile(t *testing.T) {
	dir := t.TempDir()
	props := "clusters = summit, usdf\nsummit.bootstrap.servers = sasquatch-summit:9092\nsummit.security.protocol = SASL_SSL\n" +
		"summit.sasl.jaas.config = x required username=\"a\" password=\"b\";\nsummit->usdf.enabled = true\nsummit->usdf.topics = lsst\\\\.sal\\\\..*, registry-schemas\n"
	if err := os.WriteFile(filepath.Join(dir, "mm2.properties"), []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	stand := "version: 1\nsites:\n  summit: {registry: {}}\n  usdf: {registry: {remote: summit}}\nmirrormaker_file: mm2.properties\n"
	st, err := Parse(filepath.Join(dir, "s.yaml"), []byte(stand), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Replication) != 1 || strings.Join(st.Replication[0].Topics, " ") != `lsst\.sal\..* registry-schemas` {
		t.Errorf("flows from the file: %+v", st.Replication)
	}
	if err := os.WriteFile(filepath.Join(dir, "mm2.properties"), []byte(props+"summit->usdf.topcs = x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Parse(filepath.Join(dir, "s.yaml"), []byte(stand), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "mm2.properties:7: summit->usdf.topcs: unknown flow setting") {
		t.Errorf("error %v, want the properties file's line", err)
	}
	_, err = Parse(filepath.Join(dir, "s.yaml"), []byte(stand+"mirrormaker: {summit->usdf.enabled: true}\n"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "mirrormaker and mirrormaker_file exclude each other") {
		t.Errorf("error %v", err)
	}
}

// TestMirrorMakerProperties checks that the properties a stand gives real
// MirrorMaker 2 say what its flows say: read back by the same parser the
// replicator uses, they give the same flows, heartbeat pairs included.
func TestMirrorMakerProperties(t *testing.T) {
	cases := []struct {
		name, flows string
		heartbeats  int
	}{
		{"one way", "  - {source: summit, target: usdf, topics: ['lsst\\.sal\\..*', registry-schemas], topics_exclude: ['.*\\.internal'], run: mirrormaker2}\n", 2},
		{"two way, identity", "  - {source: summit, target: usdf, policy: identity, run: mirrormaker2, refresh: 300ms}\n  - {source: usdf, target: summit, separator: _, run: mirrormaker2, heartbeats: 0s}\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Parse("s.yaml", []byte("version: 1\nbackend: process\nsites:\n  summit: {}\n  usdf: {kafka: {brokers: 3, replication_factor: 3}}\nreplication:\n"+c.flows), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Heartbeats) != 0 {
				t.Errorf("the stand would emit heartbeats %v beside MirrorMaker 2's", st.Heartbeats)
			}
			text := st.MirrorMakerProperties(map[string][]string{"summit": {"127.0.0.1:1"}, "usdf": {"127.0.0.1:2"}})
			props, err := replication.ReadProperties(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := replication.NewMM2Config("mm2.properties", props, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if len(cfg.Flows) != len(st.Replication) {
				t.Fatalf("%d flows read back, want %d\n%s", len(cfg.Flows), len(st.Replication), text)
			}
			for i, f := range st.Replication {
				got := cfg.Flows[i]
				want, _ := replication.NewFlow(f.Source.Value, f.Target.Value, f.Topics, f.Exclude, f.Policy, f.Separator)
				gotFlow, _ := replication.NewFlow(got.SourceAlias, got.TargetAlias, got.Topics, got.TopicsExclude, got.Policy, got.Separator)
				for _, topic := range []string{"lsst.sal.ATDome.position", "registry-schemas", "x.internal", "lsst.dm.y", "usdf.lsst.sal.Test.scalars"} {
					if want.Replicates(topic) != gotFlow.Replicates(topic) || (want.Replicates(topic) && want.RemoteTopic(topic) != gotFlow.RemoteTopic(topic)) {
						t.Errorf("flow %s, topic %s: stand says %v %q, the properties %v %q\n%s", f.Name, topic,
							want.Replicates(topic), want.RemoteTopic(topic), gotFlow.Replicates(topic), gotFlow.RemoteTopic(topic), text)
					}
				}
			}
			if len(cfg.Heartbeats) != c.heartbeats {
				t.Errorf("%d heartbeat pairs read back, want %d\n%s", len(cfg.Heartbeats), c.heartbeats, text)
			}
			if !strings.Contains(text, "summit->usdf.replication.factor = 3") {
				t.Errorf("the USDF's replication factor is not used:\n%s", text)
			}
		})
	}
}

// TestStandTags checks which scenarios a stand's run leaves out.
func TestStandTags(t *testing.T) {
	embedded := &Stand{Backend: "embedded"}
	process := &Stand{Backend: "process"}
	mm2 := &Stand{Backend: "process", Replication: []*FlowSpec{{Run: "mirrormaker2"}}}
	ctr := &Stand{Backend: "containers"}
	cases := []struct {
		tags  string
		stand *Stand
		want  string
	}{
		{"", embedded, "~@containers"},
		{"@smoke", embedded, "@smoke && ~@containers"},
		{"", process, "~@containers && ~@embedded"},
		{"@a,@b", process, "@a,@b && ~@containers && ~@embedded"},
		{"", mm2, "~@containers && ~@embedded && ~@own-replicator"},
		{"", ctr, "~@embedded"},
	}
	for _, c := range cases {
		if got := standTags(c.tags, c.stand); got != c.want {
			t.Errorf("standTags(%q, %s) = %q, want %q", c.tags, c.stand.Backend, got, c.want)
		}
	}
}
