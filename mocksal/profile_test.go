package mocksal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func sharedInterfaces(t testing.TB) *sal.Interfaces {
	t.Helper()
	dir := os.Getenv("TS_XML_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "ts_xml", "sal_interfaces")
	}
	ifaces, err := sal.LoadDir(dir)
	if err != nil {
		t.Fatalf("the real ts_xml interfaces are needed (TS_XML_DIR or ../shared): %v", err)
	}
	return ifaces
}

// TestNominalProfileCoversEveryTelemetryTopic resolves the nominal summit
// profile over the sample and the shared interfaces: every telemetry topic
// gets a positive rate with a source, and M1M3's are at 50 Hz.
func TestNominalProfileCoversEveryTelemetryTopic(t *testing.T) {
	p, err := LoadProfile("../scenarios/profiles/nominal-summit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	for name, ifaces := range map[string]*sal.Interfaces{"sample": builtin, "ts_xml": sharedInterfaces(t)} {
		t.Run(name, func(t *testing.T) {
			planned, err := p.Resolve(ifaces)
			if err != nil {
				t.Fatal(err)
			}
			want := ifaces.NumTopics()[sal.Telemetry]
			if len(planned) != want {
				t.Errorf("%d writers, want one per telemetry topic (%d)", len(planned), want)
			}
			for _, w := range planned {
				if w.Writer.RateHz <= 0 || w.Source == "" {
					t.Errorf("%s: rate %g source %q", w.Writer.Topic.KafkaTopic(""), w.Writer.RateHz, w.Source)
				}
				if w.Writer.Topic.CSC == "MTM1M3" && w.Writer.RateHz != 50 {
					t.Errorf("%s at %g Hz, want 50", w.Writer.Topic.Name, w.Writer.RateHz)
				}
				if w.Writer.Topic.Indexed && w.Writer.Index == 0 {
					t.Errorf("%s: indexed CSC without an index", w.Writer.Topic.KafkaTopic(""))
				}
			}
			t.Logf("%s: %d writers, %.0f samples/s", name, len(planned), Rate(planned))
		})
	}
}

func TestProfileErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"version: 1\nrules:\n  - {csc: X, rate: 1, source: s, extra: 2}\n", `p.yaml:3:34: rules[0]: unknown key "extra" in a rule`},
		{"version: 2\n", "version 2"},
		{"version: 1\nrules:\n  - {csc: ATDome, rate: 0, source: s}\n", "rate 0: want > 0 Hz"},
		{"version: 1\nrules:\n  - {csc: ATDome, rate: 1}\n", "no source"},
		{"version: 1\nrules:\n  - {csc: ATDome, rate: 1, source: s, topics: '('}\n", `topics "("`},
		{"version: 1\nrules:\n  - {csc: ATDome, rate: 1, source: s, jitter: soon}\n", `jitter "soon"`},
		{"version: 1\nkinds: [commands]\n", `kinds: "commands"`},
		{"version: 1\nrules:\n  - {csc: 'AT(', rate: 1, source: s}\n", `rule 1 (csc "AT("): csc:`},
		{"version: 1\nindices: {ESS: []}\n", "indices: ESS: an empty list"},
		{"version: 1\nindices: {ESS: [1, 1]}\n", "indices: ESS: 1: want distinct indices > 0"},
		{"version: 1\nindices: {ESS: [0]}\n", "indices: ESS: 0: want distinct"},
	}
	for _, c := range cases {
		_, err := ParseProfile("p.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	p, err := ParseProfile("p.yaml", []byte("version: 1\nrules:\n  - {csc: Nope, rate: 1, source: s}\n  - {csc: ATDome, rate: 1, source: s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if got := p.Unused(builtin); len(got) != 1 || got[0] != "Nope" {
		t.Errorf("unused rules %v, want [Nope]", got)
	}
	p, err = ParseProfile("p.yaml", []byte("version: 1\nindices: {ATDome: [1]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resolve(builtin); err == nil || !strings.Contains(err.Error(), "indices: ATDome is not an indexed CSC") {
		t.Errorf("indices of a CSC that is not indexed: %v", err)
	}
}

// TestSummitProfile resolves the whole-summit profile over the whole
// ts_xml: every telemetry topic and every event of every CSC has a writer
// at each index the profile lists (index 1 for indexed CSCs it does not
// list), no command or ackcmd does, every CSC index beats its heartbeat at
// 1 Hz, M1M3's telemetry runs at 50 Hz, and every rule and index list
// names a CSC ts_xml has.
func TestSummitProfile(t *testing.T) {
	p, err := LoadProfile("../scenarios/profiles/summit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ifaces, err := sal.LoadDir("../../shared/ts_xml/full/python/lsst/ts/xml/data/sal_interfaces")
	if err != nil {
		t.Fatalf("the whole ts_xml is needed beside the module (shared/ts_xml/full): %v", err)
	}
	if u := p.Unused(ifaces); len(u) > 0 {
		t.Errorf("rules or indices for CSCs ts_xml does not have: %v", u)
	}
	planned, err := p.Resolve(ifaces)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		csc, topic string
		index      int32
	}
	got := map[key]Planned{}
	for _, pl := range planned {
		k := key{pl.Writer.Topic.CSC, pl.Writer.Topic.Name, pl.Writer.Index}
		if _, dup := got[k]; dup {
			t.Fatalf("two writers of %v", k)
		}
		got[k] = pl
		if pl.Writer.RateHz <= 0 || pl.Source == "" {
			t.Errorf("%v: rate %g source %q", k, pl.Writer.RateHz, pl.Source)
		}
	}
	want, heartbeats := 0, 0
	for _, name := range ifaces.Names() {
		c := ifaces.Component(name)
		indices := []int32{0}
		if c.Indexed {
			indices = []int32{1}
			if l, ok := p.Indices[name]; ok {
				indices = l
			}
		}
		for _, tp := range c.Topics {
			for _, i := range indices {
				pl, ok := got[key{name, tp.Name, i}]
				switch {
				case tp.Kind == sal.Command || tp.Kind == sal.Ackcmd:
					if ok {
						t.Errorf("%s.%s:%d: a writer for a %s", name, tp.Name, i, tp.Kind)
					}
					continue
				case !ok:
					t.Errorf("%s.%s:%d: no writer", name, tp.Name, i)
					continue
				}
				want++
				switch {
				case tp.Name == "logevent_heartbeat":
					heartbeats++
					if pl.Writer.RateHz != 1 {
						t.Errorf("%s:%d heartbeat at %g Hz", name, i, pl.Writer.RateHz)
					}
				case name == "MTM1M3" && tp.Kind == sal.Telemetry && pl.Writer.RateHz != 50:
					t.Errorf("MTM1M3.%s at %g Hz, want 50", tp.Name, pl.Writer.RateHz)
				}
			}
		}
	}
	if len(planned) != want {
		t.Errorf("%d writers, want %d", len(planned), want)
	}
	if heartbeats < 90 {
		t.Errorf("%d heartbeats: want one per CSC index", heartbeats)
	}
	t.Logf("%d writers, %d CSC indices, %.0f samples/s", len(planned), heartbeats, Rate(planned))
}

// TestSalmockTopics: kafkaefd salmock's selection, the first N topics in
// alphabetical order of their Kafka names.
func TestSalmockTopics(t *testing.T) {
	ifaces := sharedInterfaces(t)
	got := SalmockTopics(ifaces, 100)
	if len(got) != 100 {
		t.Fatalf("%d topics, want 100", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].KafkaTopic("") >= got[i].KafkaTopic("") {
			t.Fatalf("not in order at %d: %s, %s", i, got[i-1].KafkaTopic(""), got[i].KafkaTopic(""))
		}
	}
	if first := got[0].KafkaTopic(""); first != "lsst.sal.ATDome.ackcmd" {
		t.Errorf("first topic %s, want lsst.sal.ATDome.ackcmd", first)
	}
	if n := len(SalmockTopics(ifaces, 1<<20)); n != 0 && n != sumTopics(ifaces) {
		t.Errorf("asking for more than there are gives %d, want all %d", n, sumTopics(ifaces))
	}
}

func sumTopics(ifaces *sal.Interfaces) int {
	n := 0
	for _, c := range ifaces.NumTopics() {
		n += c
	}
	return n
}
