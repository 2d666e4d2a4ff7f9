package yamlx

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"KAFKA": "k:9092", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct {
		in, want, err string
	}{
		{"brokers: ${KAFKA}", "brokers: k:9092", ""},
		{"a: ${NOPE:-x}\nb: ${EMPTY:-y}", "a: x\nb: y", ""},
		{"a: ${NOPE:-}", "a: ", ""},
		{"a: $${KAFKA} $KAFKA", "a: ${KAFKA} $KAFKA", ""},
		{"a: 1\nb: ${NOPE}", "", "s.yaml:2: ${NOPE} is not set"},
		{"a: ${EMPTY}", "", "s.yaml:1: ${EMPTY} is not set"},
		{"# ${NOPE} in a comment\na: 1 # ${NOPE}\nb: '#${KAFKA}'", "# ${NOPE} in a comment\na: 1 # ${NOPE}\nb: '#k:9092'", ""},
	}
	for _, c := range cases {
		got, err := Expand("s.yaml", []byte(c.in), lookup)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

type testSite struct {
	Kafka struct {
		Brokers int     `yaml:"brokers"`
		Scale   float64 `yaml:"scale"`
		Auto    bool    `yaml:"auto"`
	} `yaml:"kafka"`
	Topics []string          `yaml:"topics"`
	Every  testDuration      `yaml:"every"`
	Tags   map[string]string `yaml:"tags"`
}

type testStand struct {
	Sites   map[string]*testSite `yaml:"sites"`
	Traffic []testSite           `yaml:"traffic"`
}

// testDuration refuses what is not "Ns" with a NodeError.
type testDuration struct{ s string }

func (d *testDuration) UnmarshalYAML(n *yaml.Node) error {
	if !strings.HasSuffix(n.Value, "s") {
		return NodeErrorf(n, "want seconds, got %s", Got(n))
	}
	d.s = n.Value
	return nil
}

// TestDecodeErrors: every decoding error names the file, line and column
// of the value it is about and its key path.
func TestDecodeErrors(t *testing.T) {
	section := func(goType string) string { return map[string]string{"testSite": "a site"}[goType] }
	cases := []struct{ name, yaml, want string }{
		{"integer", "sites:\n  summit:\n    kafka: {brokers: one}\n", `s.yaml:3:22: sites.summit.kafka.brokers: want an integer, got "one"`},
		{"a list for an integer", "sites:\n  summit:\n    kafka:\n      brokers: [1]\n", `s.yaml:4:16: sites.summit.kafka.brokers: want an integer, got a list`},
		{"number", "traffic:\n  - kafka: {brokers: 1}\n  - kafka: {scale: double}\n", `s.yaml:3:20: traffic[1].kafka.scale: want a number, got "double"`},
		{"bool", "sites: {a: {kafka: {auto: maybe}}}\n", `s.yaml:1:27: sites.a.kafka.auto: want true or false, got "maybe"`},
		{"a long value", "sites: {a: {kafka: {brokers: threeormore}}}\n", `s.yaml:1:30: sites.a.kafka.brokers: want an integer, got "threeormore"`},
		{"the same value twice on a line", "sites: {a: {kafka: {scale: 1, brokers: x}}, b: {kafka: {brokers: x}}}\n", `s.yaml:1:40: sites.a.kafka.brokers: want an integer, got "x"`},
		{"a scalar for a list", "sites: {a: {topics: lsst}}\n", `s.yaml:1:21: sites.a.topics: want a list, got "lsst"`},
		{"a list for a mapping", "sites: [a, b]\n", `s.yaml:1:8: sites: want a mapping, got a list`},
		{"a mapping for a string", "sites: {a: {tags: {k: {x: 1}}}}\n", `s.yaml:1:23: sites.a.tags.k: want a string, got a mapping`},
		{"a mapping holding a mapping, for a list", "sites: {a: {topics: {x: {y: 1}}}}\n", `s.yaml:1:21: sites.a.topics: want a list, got a mapping`},
		{"an unmarshaler's error", "sites:\n  a:\n    every: 5m\n", `s.yaml:3:12: sites.a.every: want seconds, got "5m"`},
		{"unknown key", "sites:\n  a:\n    kafak: {}\n", `s.yaml:3:5: sites.a: unknown key "kafak" in a site`},
		{"unknown key at the top", "site: {}\n", `s.yaml:1:1: unknown key "site" in testStand`},
		{"syntax", "sites: {a: {]\n", `s.yaml:1: did not find expected node content`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v testStand
			err := Decode("s.yaml", []byte(c.yaml), &v, func(g string) string {
				if s := section(g); s != "" {
					return s
				}
				return g
			})
			if err == nil || err.Error() != c.want {
				t.Fatalf("error %v\nwant    %s", err, c.want)
			}
		})
	}
}

func TestPath(t *testing.T) {
	doc := "sites:\n  summit:\n    kafka: {topic_configs: {retention.ms: '1'}}\ntraffic:\n  - {rate: 2}\n"
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path      Path
		str       string
		line, col int
		found     bool
	}{
		{Path{"sites", "summit", "kafka", "topic_configs", "retention.ms"}, `sites.summit.kafka.topic_configs["retention.ms"]`, 3, 43, true},
		{Path{"traffic", 0, "rate"}, "traffic[0].rate", 5, 12, true},
		{Path{"traffic", 0, "scale"}, "traffic[0].scale", 5, 5, false},    // at the entry that lacks it
		{Path{"traffic", 3}, "traffic[3]", 5, 3, false},                   // at the list
		{Path{"sites", "base", "kafka"}, "sites.base.kafka", 2, 3, false}, // at the sites
	}
	for _, c := range cases {
		if got := c.path.String(); got != c.str {
			t.Errorf("%v: String %q, want %q", c.path, got, c.str)
		}
		n, found := Lookup(&root, c.path)
		if n == nil || n.Line != c.line || n.Column != c.col || found != c.found {
			t.Errorf("Lookup %s: %v at %d:%d, want %v at %d:%d", c.str, found, n.Line, n.Column, c.found, c.line, c.col)
		}
	}
	p := Path{"a"}
	q, r := p.With("b"), p.With("c")
	if q.String() != "a.b" || r.String() != "a.c" {
		t.Errorf("With shares its path: %s %s", q, r)
	}
}
