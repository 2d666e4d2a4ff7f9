package stand

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// TestShippedSchemaIsCurrent: scenarios/stand.schema.json is what the
// types generate (regenerate with `go run ./cmd/stand schema`).
func TestShippedSchemaIsCurrent(t *testing.T) {
	shipped, err := os.ReadFile("../../scenarios/stand.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != Schema() {
		t.Fatal("scenarios/stand.schema.json is out of date: go run ./cmd/stand schema > scenarios/stand.schema.json")
	}
}

// TestStandsMatchSchema checks the shipped stands against the schema, and
// that it refuses what the loader refuses for its shape.
func TestStandsMatchSchema(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(Schema()), &doc); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("stand.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("stand.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	asJSON := func(t *testing.T, data []byte) any {
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	if len(files) < 3 {
		t.Fatalf("stands found: %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(asJSON(t, data)); err != nil {
			t.Errorf("%s does not match the schema: %v", f, err)
		}
	}
	bad := []struct{ yaml, want string }{
		{"version: 1\nsites: {a: {zookeeper: 1}}\n", "zookeeper"},
		{"version: 1\nsites: {a: {kafka: {brokers: 12}}}\n", "maximum"},
		{"version: 1\nsites: {a: {}}\nproducers: [{site: a, run: docker}]\n", "/producers/0/run"},
		{"version: 1\nsites: []\n", "/sites"},
		// The figures the loader refuses (testdata/bad).
		{"version: 1\nsites: {a: {kafka: {brokers: 0}}}\n", "/sites/a/kafka/brokers"},
		{"version: 1\nsites: {a: {}}\nproducers: [{site: a, queue_len: -1}]\n", "/producers/0/queue_len"},
		{"version: 1\nsites: {a: {}}\nproducers: [{site: a, domain: 233}]\n", "/producers/0/domain"},
		{"version: 1\nsites: {a: {}, b: {}}\nreplication: [{source: a, target: b, refresh: -5s}]\n", "/replication/0/refresh"},
		{"version: 1\nsites: {a: {}, b: {}}\nreplication: [{source: a, target: b, refresh: 0s}]\n", "/replication/0/refresh"},
		{"version: 1\nsites: {a: {}}\ntraffic: [{profile: p, scale: -3}]\n", "/traffic/0/scale"},
		{"version: 1\nsites: {a: {}}\ntraffic: [{profile: p, scale: 0}]\n", "/traffic/0/scale"},
		{"version: 1\nsites: {a: {}}\ntraffic: [{kind: protobuf, site: a, topic: t, rate: 0}]\n", "/traffic/0/rate"},
		{"version: 1\nsites: {a: {}}\nsinks: [{site: a, max_batch: 0}]\n", "/sinks/0/max_batch"},
		{"version: 1\nsites: {a: {}}\nsinks: [{site: a, rules: [{topics: [x], database: efd, precision: 0s}]}]\n", "/sinks/0/rules/0/precision"},
		{"version: 1\nsites: {a: {}, b: {}}\nfaults: [{link: {from: a, to: b}}]\n", "delay"},
		{"version: 1\nbackend: containers\ncontainers: {timeout: 0s}\nsites: {a: {}}\n", "/containers/timeout"},
	}
	for _, b := range bad {
		err := sch.Validate(asJSON(t, []byte(b.yaml)))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: %v, want an error about %s", b.yaml, err, b.want)
		}
	}
}
