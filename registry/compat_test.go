package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal"
)

// evolve edits the fields of a schema JSON.
func evolve(t *testing.T, schema string, edit func(fields []map[string]any) []map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(schema), &m); err != nil {
		t.Fatal(err)
	}
	var fields []map[string]any
	for _, f := range m["fields"].([]any) {
		fields = append(fields, f.(map[string]any))
	}
	out := edit(fields)
	list := make([]any, len(out))
	for i, f := range out {
		list[i] = f
	}
	m["fields"] = list
	b, _ := json.Marshal(m)
	return string(b)
}

func realTopic(t *testing.T, csc, name string) *sal.Topic {
	dir := os.Getenv("TS_XML_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "ts_xml", "sal_interfaces")
	}
	ifaces, err := sal.LoadDir(dir)
	if err != nil {
		t.Fatalf("the real ts_xml interfaces are needed (TS_XML_DIR or ../shared): %v", err)
	}
	return ifaces.Topic(csc, name)
}

// TestCompatibilityOfRealEvolutions checks schema changes a ts_xml release
// makes to real topics against every level.
func TestCompatibilityOfRealEvolutions(t *testing.T) {
	pos := realTopic(t, "ATDome", "position").Schema()
	fad := realTopic(t, "MTM1M3", "forceActuatorData").Schema()
	field := func(fs []map[string]any, name string) map[string]any {
		for _, f := range fs {
			if f["name"] == name {
				return f
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	cases := []struct {
		name   string
		old    string
		new    string
		compat map[string]bool // level → compatible
	}{
		{"add a field with a default", pos, evolve(t, pos, func(fs []map[string]any) []map[string]any {
			return append(fs, map[string]any{"name": "azimuthVelocity", "type": "double", "default": 0.0, "description": "new", "units": "deg/s"})
		}), map[string]bool{"BACKWARD": true, "FORWARD": true, "FULL": true, "NONE": true}},
		{"add a field without a default", pos, evolve(t, pos, func(fs []map[string]any) []map[string]any {
			return append(fs, map[string]any{"name": "azimuthVelocity", "type": "double"})
		}), map[string]bool{"BACKWARD": false, "FORWARD": true, "FULL": false, "NONE": true}},
		{"remove a field that old readers need", evolve(t, pos, func(fs []map[string]any) []map[string]any {
			delete(field(fs, "azimuthPosition"), "default")
			return fs
		}), evolve(t, pos, func(fs []map[string]any) []map[string]any {
			var out []map[string]any
			for _, f := range fs {
				if f["name"] != "azimuthPosition" {
					out = append(out, f)
				}
			}
			return out
		}), map[string]bool{"BACKWARD": true, "FORWARD": false, "FULL": false, "NONE": true}},
		{"change a type (double to string)", pos, evolve(t, pos, func(fs []map[string]any) []map[string]any {
			f := field(fs, "azimuthPosition")
			f["type"], f["default"] = "string", ""
			return fs
		}), map[string]bool{"BACKWARD": false, "FORWARD": false, "FULL": false, "NONE": true}},
		{"promote float to double", pos, evolve(t, pos, func(fs []map[string]any) []map[string]any {
			f := field(fs, "mainDoorOpeningPercentage")
			f["type"] = "double"
			return fs
		}), map[string]bool{"BACKWARD": true, "FORWARD": false, "FULL": false, "NONE": true}},
		// Avro arrays carry no length: a new Count is compatible at every
		// level, although a consumer that flattens name0..nameN-1 changes.
		{"change an array length", fad, evolve(t, fad, func(fs []map[string]any) []map[string]any {
			f := field(fs, "xForce")
			f["default"] = make([]float64, 13)
			return fs
		}), map[string]bool{"BACKWARD": true, "FORWARD": true, "FULL": true, "NONE": true}},
	}
	for _, c := range cases {
		for level, want := range c.compat {
			reasons, err := checkCompatible(level, c.new, []string{c.old})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := len(reasons) == 0; got != want {
				t.Errorf("%s under %s: compatible %v, want %v (%s)", c.name, level, got, want, strings.Join(reasons, "; "))
			}
		}
	}
}

// TestTransitive: v3 is FORWARD compatible with v2 (v2 reads v3's data,
// defaulting a) but not with v1 (whose a has no default): only the
// transitive level sees it.
func TestTransitive(t *testing.T) {
	v1 := `{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}`
	v2 := `{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":0}]}`
	v3 := `{"type":"record","name":"r","fields":[{"name":"b","type":"int","default":0}]}`
	for _, c := range []struct {
		level string
		want  bool
	}{{"BACKWARD", true}, {"BACKWARD_TRANSITIVE", true}, {"FORWARD", true}, {"FORWARD_TRANSITIVE", false}, {"FULL", true}, {"FULL_TRANSITIVE", false}} {
		reasons, err := checkCompatible(c.level, v3, []string{v1, v2})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(reasons) == 0; got != c.want {
			t.Errorf("%s: %v, want %v: %v", c.level, got, c.want, reasons)
		}
	}
}
