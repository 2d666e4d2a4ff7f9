package sink

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol"
)

func TestToPoint(t *testing.T) {
	cases := []struct {
		name      string
		rule      Rule
		rec       map[string]any
		want      string // line protocol at ns precision
		nonFinite int
	}{
		{
			// The float's shortest decimal form, to the ns, as Telegraf
			// (its exact binary value would be …123456716 ns).
			name: "scalars and time, the float's decimal form to the ns",
			rec:  map[string]any{"private_efdStamp": 1700000000.1234567, "a": float32(1.5), "n": int32(-3), "l": int64(7), "ok": true, "s": "x y"},
			want: `lsst.sal.Test.scalars a=1.5,l=7i,n=-3i,ok=true,private_efdStamp=1700000000.1234567,s="x y" 1700000000123456700`,
		},
		{
			name: "a µs precision rounds, as Telegraf's accumulator does",
			rule: Rule{Precision: time.Microsecond},
			rec:  map[string]any{"private_efdStamp": 1700000000.1234567, "x": 1.0},
			want: `lsst.sal.Test.scalars private_efdStamp=1700000000.1234567,x=1 1700000000123457000`,
		},
		{
			name: "a µs precision rounds down below the half",
			rule: Rule{Precision: time.Microsecond},
			rec:  map[string]any{"private_efdStamp": 1700000000.1234562, "x": 1.0},
			want: `lsst.sal.Test.scalars private_efdStamp=1700000000.1234562,x=1 1700000000123456000`,
		},
		{
			name: "a negative time floors",
			rec:  map[string]any{"private_efdStamp": -1.5, "x": 1.0},
			want: `lsst.sal.Test.scalars private_efdStamp=-1.5,x=1 -1500000000`,
		},
		{
			name: "arrays flattened, unions unwrapped, nulls dropped",
			rec:  map[string]any{"private_efdStamp": 1.5, "v": []any{float64(1), float64(2)}, "u": map[string]any{"double": 3.0}, "z": nil},
			want: `lsst.sal.Test.scalars private_efdStamp=1.5,u=3,v0=1,v1=2 1500000000`,
		},
		{
			name: "tags, another timestamp field, a field filter",
			rule: Rule{Timestamp: "timestamp", Tags: []string{"instrument"}, Fields: []string{"value"}},
			rec:  map[string]any{"timestamp": 2.0, "instrument": "LATISS", "value": 0.5, "other": 1.0},
			want: `lsst.sal.Test.scalars,instrument=LATISS value=0.5 2000000000`,
		},
		{
			name: "unix_ms integers, ms precision, measurement and separator",
			rule: Rule{Timestamp: "t", TimestampFormat: "unix_ms", Precision: time.Millisecond, Measurement: "m", FieldSeparator: "_"},
			rec:  map[string]any{"t": int64(1700000000123), "v": []any{int32(4), int32(5)}},
			want: `m t=1700000000123i,v_0=4i,v_1=5i 1700000000123000000`,
		},
		{
			name: "unix_ns keeps every nanosecond at ns precision",
			rule: Rule{Timestamp: "t", TimestampFormat: "unix_ns", Precision: time.Nanosecond},
			rec:  map[string]any{"t": int64(1700000000123456789), "x": 1.0},
			want: `lsst.sal.Test.scalars t=1700000000123456789i,x=1 1700000000123456789`,
		},
		{
			name:      "NaN and Inf left out and counted",
			rec:       map[string]any{"private_efdStamp": 3.0, "a": math.NaN(), "b": []any{float32(math.Inf(1)), float32(2)}, "c": 1.0},
			want:      `lsst.sal.Test.scalars b1=2,c=1,private_efdStamp=3 3000000000`,
			nonFinite: 2,
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.rule
			r.Topics, r.Database = []string{".*"}, "efd"
			if err := r.compile(i); err != nil {
				t.Fatal(err)
			}
			var st pointStats
			p, err := r.toPoint("lsst.sal.Test.scalars", c.rec, &st)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := lp.NewEncoder(&buf)
			enc.SetPrecision(time.Nanosecond)
			enc.FailOnFieldErr(true)
			if _, err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(buf.String()); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			if st.nonFinite != c.nonFinite {
				t.Errorf("non-finite %d, want %d", st.nonFinite, c.nonFinite)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	cases := []struct {
		rule Rule
		want string
	}{
		{Rule{Database: "efd"}, "rule 1: no topics"},
		{Rule{Topics: []string{"x"}}, "rule 1: no database"},
		{Rule{Topics: []string{"("}, Database: "efd"}, `rule 1: topic pattern "("`},
		{Rule{Topics: []string{"x"}, Database: "efd", TimestampFormat: "unix_s"}, `timestamp format "unix_s"`},
	}
	for _, c := range cases {
		if err := c.rule.compile(0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.rule, err, c.want)
		}
	}
	// A stand's rules name registries; the stand gives the sink URLs.
	if _, err := Rules([]RuleSpec{{Topics: []string{"x"}, Database: "efd", Registry: "summit"}}); err != nil {
		t.Errorf("a rule naming its registry: %v", err)
	}
	r := Rule{Topics: []string{"x"}, Database: "efd"}
	_ = r.compile(0)
	var st pointStats
	if _, err := r.toPoint("m", map[string]any{"x": 1.0}, &st); err == nil || !strings.Contains(err.Error(), "private_efdStamp") {
		t.Errorf("missing timestamp: err %v, want one naming private_efdStamp", err)
	}
}

func TestDefaultRulesRoute(t *testing.T) {
	rules, err := Config{Brokers: []string{"x"}, RegistryURL: "http://r", InfluxURL: "http://i"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"lsst.sal.ATDome.position":        "efd",
		"summit.lsst.sal.ATDome.position": "efd",
		"lsst.dm.rubin_obs.exposure":      "dm",
		"base.lsst.dm.x":                  "dm",
		"registry-schemas":                "",
	}
	for topic, want := range cases {
		got := ""
		for i := range rules {
			if rules[i].Matches(topic) {
				got = rules[i].Database
				break
			}
		}
		if got != want {
			t.Errorf("%s → %q, want %q", topic, got, want)
		}
	}
}

// TestConfigRegistries: the sink's registry URL may be left out only
// when every rule names its own, and errors say which rule lacks one.
func TestConfigRegistries(t *testing.T) {
	own := Rule{Topics: []string{`summit\..*`}, Database: "efd", Registry: "http://remote:8081/"}
	plain := Rule{Topics: []string{`lsst\..*`}, Database: "efd"}
	cases := []struct {
		name     string
		registry string
		rules    []Rule
		want     string // error; "" for none
	}{
		{"default rules and a registry", "http://r:8081", nil, ""},
		{"default rules, no registry", "", nil, "sink: rule 1 has no registry and there is no registry URL for it"},
		{"every rule its own", "", []Rule{own, {Topics: []string{"x"}, Database: "efd", Registry: "https://local"}}, ""},
		{"one rule without", "", []Rule{own, plain}, "sink: rule 2 has no registry"},
		{"a rule's own and the sink's", "http://local:8081", []Rule{own, plain}, ""},
		{"the sink's is no URL", "local:8081", []Rule{own}, `sink: registry URL "local:8081": want http://host:port`},
		{"a rule's is no URL", "http://local:8081", []Rule{plain, {Topics: []string{"x"}, Database: "efd", Registry: "schema-registry-remote:8081"}},
			`sink: rule 2: registry "schema-registry-remote:8081": want http://host:port`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := Config{Brokers: []string{"k:9092"}, RegistryURL: c.registry, InfluxURL: "http://i:8086", Rules: c.rules}.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.rules != nil && rules[0].Registry != "http://remote:8081" {
					t.Errorf("rule 1's registry %q, want it without the trailing /", rules[0].Registry)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text, want string
	}{
		{"ok", "rules:\n  - topics: ['lsst\\.dm\\..*']\n    database: dm\n    timestamp: timestamp\n    precision: 1ms\n" +
			"    registry: http://schema-registry-remote:8081\n    replication_separator: _\n", ""},
		{"unknown key", "rules:\n  - topics: [x]\n    database: dm\n    timestamp_fromat: unix\n", `rules.yaml:4:5: rules[0]: unknown key "timestamp_fromat" in a rule`},
		{"bad precision", "rules:\n  - topics: [x]\n    database: dm\n    precision: fast\n", `rules.yaml: rule 1: precision "fast"`},
		{"bad registry", "rules:\n  - topics: [x]\n    database: dm\n  - topics: [y]\n    database: dm\n    registry: remote\n", `rules.yaml: rule 2: registry "remote"`},
		{"empty", "rules: []\n", "rules.yaml: no rules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "rules.yaml")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			rules, err := LoadRules(path)
			if c.want == "" {
				if err != nil || len(rules) != 1 || rules[0].Precision != time.Millisecond || rules[0].Timestamp != "timestamp" ||
					rules[0].Registry != "http://schema-registry-remote:8081" || rules[0].ReplicationSeparator != "_" {
					t.Fatalf("rules %+v, %v", rules, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestFrameID(t *testing.T) {
	cases := []struct {
		in   []byte
		id   int
		body string
		err  bool
	}{
		{[]byte{0, 0, 0, 1, 2, 'x'}, 258, "x", false},
		{[]byte{1, 0, 0, 0, 1}, 0, "", true},
		{[]byte{0, 0}, 0, "", true},
	}
	for _, c := range cases {
		id, body, err := frameID(c.in)
		if (err != nil) != c.err || id != c.id || string(body) != c.body {
			t.Errorf("frameID(%v) = %d, %q, %v", c.in, id, body, err)
		}
	}
}
