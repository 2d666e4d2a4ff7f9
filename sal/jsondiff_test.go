package sal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// orderedJSON is a JSON value with its objects' keys in order: a JSON
// comparison that parsed into maps would call two schemas equal whose
// keys ts_xml orders differently.
type orderedJSON struct {
	keys []string      // object keys, in order
	vals []orderedJSON // object values or array items
	obj  bool
	arr  bool
	lit  any // a string, json.Number, bool or nil
}

func parseOrdered(dec *json.Decoder) (orderedJSON, error) {
	tok, err := dec.Token()
	if err != nil {
		return orderedJSON{}, err
	}
	switch tok {
	case json.Delim('{'):
		v := orderedJSON{obj: true}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return v, err
			}
			item, err := parseOrdered(dec)
			if err != nil {
				return v, err
			}
			v.keys = append(v.keys, k.(string))
			v.vals = append(v.vals, item)
		}
		_, err = dec.Token()
		return v, err
	case json.Delim('['):
		v := orderedJSON{arr: true}
		for dec.More() {
			item, err := parseOrdered(dec)
			if err != nil {
				return v, err
			}
			v.vals = append(v.vals, item)
		}
		_, err = dec.Token()
		return v, err
	}
	return orderedJSON{lit: tok}, nil
}

// JSONDiff is "" when a and b are the same JSON, object keys in the same
// order and numbers written alike (0 is not 0.0), else the first
// difference with its path.
func JSONDiff(a, b []byte) string {
	parse := func(x []byte) (orderedJSON, error) {
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		return parseOrdered(dec)
	}
	va, err := parse(a)
	if err != nil {
		return fmt.Sprintf("ours does not parse: %v", err)
	}
	vb, err := parse(b)
	if err != nil {
		return fmt.Sprintf("theirs does not parse: %v", err)
	}
	return diffOrdered("", va, vb)
}

func diffOrdered(path string, a, b orderedJSON) string {
	at := func() string {
		if path == "" {
			return "the schema"
		}
		return path
	}
	switch {
	case a.obj != b.obj || a.arr != b.arr:
		return fmt.Sprintf("%s: %s, theirs %s", at(), a, b)
	case a.obj:
		if strings.Join(a.keys, ",") != strings.Join(b.keys, ",") {
			return fmt.Sprintf("%s: keys [%s], theirs [%s]", at(), strings.Join(a.keys, ", "), strings.Join(b.keys, ", "))
		}
		for i, k := range a.keys {
			if d := diffOrdered(path+"."+k, a.vals[i], b.vals[i]); d != "" {
				return d
			}
		}
	case a.arr:
		for i := range min(len(a.vals), len(b.vals)) {
			if d := diffOrdered(fmt.Sprintf("%s[%d]", path, i), a.vals[i], b.vals[i]); d != "" {
				return d
			}
		}
		if len(a.vals) != len(b.vals) {
			return fmt.Sprintf("%s: %d items, theirs %d", at(), len(a.vals), len(b.vals))
		}
	case a.lit != b.lit:
		return fmt.Sprintf("%s: %s, theirs %s", at(), a, b)
	}
	return ""
}

func (v orderedJSON) String() string {
	switch {
	case v.obj:
		return "an object"
	case v.arr:
		return "an array"
	}
	s, _ := json.Marshal(v.lit)
	return string(s)
}

func TestJSONDiff(t *testing.T) {
	for _, tc := range []struct {
		a, b, want string
	}{
		{`{"a": 1, "b": [1, "x"]}`, `{"a":1,"b":[1,"x"]}`, ""},
		{`{"a": 1, "b": 2}`, `{"b": 2, "a": 1}`, "the schema: keys [a, b], theirs [b, a]"},
		{`{"d": 0}`, `{"d": 0.0}`, ".d: 0, theirs 0.0"},
		{`{"f": [{"u": "m"}]}`, `{"f": [{"u": "s"}]}`, `.f[0].u: "m", theirs "s"`},
		{`{"f": [1]}`, `{"f": [1, 2]}`, ".f: 1 items, theirs 2"},
		{`{"d": null}`, `{"d": "x"}`, `.d: null, theirs "x"`},
		{`{"t": "a"}`, `{"t": ["null", "a"]}`, `.t: "a", theirs an array`},
	} {
		if got := JSONDiff([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("JSONDiff(%s, %s) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
