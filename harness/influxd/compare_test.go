package influxd

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiffPoint(t *testing.T) {
	cases := []struct {
		name string
		a, b Point
		want []string // parts of the difference; none means equal
	}{
		{"equal", Point{"time": "t1", "x": json.Number("1.5")}, Point{"time": "t1", "x": json.Number("1.5")}, nil},
		{"numbers by value", Point{"x": json.Number("1.50")}, Point{"x": json.Number("1.5")}, nil},
		{"other value", Point{"x": json.Number("1.5")}, Point{"x": json.Number("2")}, []string{"x: A 1.5, B 2"}},
		{"other time", Point{"time": "t1"}, Point{"time": "t2"}, []string{"time: A t1, B t2"}},
		{"field only in B", Point{"x": true}, Point{"x": true, "y": "s"}, []string{"y: A <nil>, B s"}},
		{"field only in A", Point{"x": true, "z": json.Number("3")}, Point{"x": true}, []string{"z: A 3, B <nil>"}},
		{"many, capped", Point{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1}, Point{}, []string{"a: A 1", "… 2 more"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DiffPoint(c.a, c.b, "A", "B")
			if len(c.want) == 0 && got != "" {
				t.Fatalf("difference %q, want none", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("difference %q lacks %q", got, w)
				}
			}
		})
	}
}
