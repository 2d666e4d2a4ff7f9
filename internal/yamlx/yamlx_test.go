package yamlx

import (
	"strings"
	"testing"
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
