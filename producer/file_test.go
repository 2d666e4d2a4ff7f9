package producer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func TestParseFile(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	good := []struct {
		name, yaml string
		want       []string
		partitions map[string]int32
	}{
		{"one group", "component: MTM1M3\nqueue_len: 1000\ntopic_sets:\n  - telemetry: [forceActuatorData]\n    partitions: 3\n    add_ackcmd: true\n  - events: [detailedState]\n",
			[]string{"MTM1M3"}, map[string]int32{"forceActuatorData": 3, "ackcmd": 3}},
		{"a list", "- component: ATDome\n- component: MTHexapod:1\n", []string{"ATDome", "MTHexapod:1"}, map[string]int32{}},
	}
	for _, c := range good {
		groups, err := ParseFile("f.yaml", []byte(c.yaml), ifaces)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, g := range groups {
			names = append(names, g.Component)
		}
		if d := cmp.Diff(c.want, names); d != "" {
			t.Errorf("%s: components:\n%s", c.name, d)
		}
		if d := cmp.Diff(c.partitions, groups[0].partitions()); d != "" {
			t.Errorf("%s: partitions:\n%s", c.name, d)
		}
	}
	bad := []struct{ yaml, want string }{
		{"component: ATDome\nqueue: 5\n", `f.yaml:2:1: unknown key "queue" in a producer group`},
		{"component: Nope\n", `unknown CSC "Nope"`},
		{"component: ATDome\nqueue_len: 50\n", "queue_len 50: want at least 100"},
		{"component: ATDome\ntopic_sets:\n  - telemetry: [nope]\n", `topic set 1: ATDome has no telemetry topic "nope"`},
		{"component: ATDome\ntopic_sets:\n  - events: [logevent_azimuthState]\n", "without the command_/logevent_ prefix"},
		{"component: ATDome\ntopic_sets:\n  - events: [azimuthState]\n    partitions: 2\n", "events have one partition"},
		{"component: ATDome\ntopic_sets:\n  - telemetry: [position]\n  - telemetry: [position]\n", "already in topic set 1"},
		{"- component: ATDome\n- component: ATDome\n", "listed twice"},
		{"component: MTHexapod:x\n", "bad index"},
	}
	for _, c := range bad {
		if _, err := ParseFile("f.yaml", []byte(c.yaml), ifaces); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(FileSchema()), &schema); err != nil || schema["oneOf"] == nil {
		t.Errorf("FileSchema is not the expected JSON schema: %v", err)
	}
}
