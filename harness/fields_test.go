package harness

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestValueDiff(t *testing.T) {
	cases := []struct {
		want, got any
		diff      string // "" when equal
	}{
		{float32(1.1), json.Number("1.100000023841858"), ""},
		{float32(1.1), json.Number("1.1"), "1.1, want 1.1"},
		{int64(-4555855774868891997), json.Number("-4555855774868891997"), ""},
		{int64(-4555855774868891997), json.Number("-4555855774868891996"), "want -4555855774868891997"},
		{int32(7), json.Number("7"), ""},
		{"abc", "abc", ""},
		{"abc", "abd", `want "abc"`},
		{true, false, "want true"},
		{2.5, nil, "missing"},
		{math.NaN(), nil, ""},
		{nil, nil, ""},                           // a null written: no field
		{nil, json.Number("0"), "want no field"}, // a null that became a value
	}
	for _, c := range cases {
		d := valueDiff(c.want, c.got)
		if (c.diff == "") != (d == "") || !strings.Contains(d, c.diff) {
			t.Errorf("valueDiff(%v, %v) = %q, want %q", c.want, c.got, d, c.diff)
		}
	}
}
