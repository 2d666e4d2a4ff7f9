package stand

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/replication"
)

// TestBadStands loads every stand under testdata/bad, the one corpus of
// bad stands (cmd/stand runs `validate` and `run` on it too): each is
// refused with one line, the error its first line documents ("# want:
// FILE:LINE[:COLUMN]: message", FILE relative to testdata/bad: the stand
// itself, or the base it extends), at that very position.
func TestBadStands(t *testing.T) {
	t.Setenv("STAND_TEST_UNSET", "")
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) < 100 {
		t.Fatalf("%d bad stands (%v), want the whole corpus", len(files), err)
	}
	pos := regexp.MustCompile(`^[\w./-]+\.yaml:\d+(:\d+)?: \S`)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := badStandWant(t, f)
			if !pos.MatchString(want) {
				t.Fatalf("want %q: name the file and line the error is at", want)
			}
			_, err := Load(f, LoadOptions{})
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			if got := err.Error(); !strings.HasPrefix(got, "testdata/bad/"+want) || strings.Contains(got, "\n") {
				t.Fatalf("error %q\nwant one line starting %q", got, "testdata/bad/"+want)
			}
		})
	}
}

// badStandWant is the error a bad stand's first line documents ("# want:
// ...").
func badStandWant(t testing.TB, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	want, ok := strings.CutPrefix(first, "# want: ")
	if !ok || strings.TrimSpace(want) == "" {
		t.Fatalf("%s: the first line must be \"# want: <file>:<line>: <error>\"", file)
	}
	return strings.TrimSpace(want)
}

func TestParseDefaultStand(t *testing.T) {
	st, err := Load("../../scenarios/summit-usdf.yaml", LoadOptions{})
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
		{"../../scenarios/identity.yaml", `copies summit's registry storage "registry-schemas" onto usdf's own registry topic "registry-schemas"`},
		{"../../scenarios/two-way.yaml", ""},
		{"../../scenarios/summit-usdf.yaml", ""},
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
// list items merge by name. Errors in overlays and in their bases, at
// their own files and lines, are in testdata/bad/extends-*.yaml.
func TestExtends(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base, err := os.ReadFile("../../scenarios/summit-usdf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write("base.yaml", string(base))
	over := write("over.yaml", "extends: base.yaml\nname: overlay\nsites:\n  usdf:\n    influxdb: {databases: [efd, dm]}\nproducers:\n  - name: test-salkafka\n    domain: 13\n  - name: extra\n    site: summit\n    cscs: [ATDome]\n")
	st, err := Load(over, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "overlay" || len(st.Sites["usdf"].InfluxDB.Databases) != 2 || st.Sites["usdf"].Remote("summit") == nil {
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

// TestServedIndices: which indices a profile's writer is written at on a
// domain, from what the domain's producers serve.
func TestServedIndices(t *testing.T) {
	sv := Served{"ATDome": {0}, "MTHexapod": {1, 2}, "ESS": {0}, "Test": {5}}
	for _, tc := range []struct {
		csc    string
		index  int32
		listed bool
		want   []int32
	}{
		{"ATDome", 0, false, []int32{0}},
		{"Nope", 0, false, nil},
		{"MTHexapod", 1, false, []int32{1, 2}}, // the producer's indices
		{"MTHexapod", 2, true, []int32{2}},     // listed and served
		{"MTHexapod", 3, true, nil},            // listed, not served
		{"ESS", 101, true, []int32{101}},       // served: every index
		{"ESS", 1, false, []int32{1}},          // every index: the writer's own
		{"Test", 1, false, []int32{5}},
	} {
		if got := sv.Indices(tc.csc, tc.index, tc.listed); !slices.Equal(got, tc.want) {
			t.Errorf("Indices(%s, %d, %v) = %v, want %v", tc.csc, tc.index, tc.listed, got, tc.want)
		}
	}
}
