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
