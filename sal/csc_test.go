package sal

import (
	"strings"
	"testing"
)

func TestParseCSC(t *testing.T) {
	for _, c := range []struct {
		in, name string
		index    int32
		err      string
	}{
		{in: "ATDome", name: "ATDome"},
		{in: "MTHexapod:2", name: "MTHexapod", index: 2},
		{in: " Test:1 ", name: "Test", index: 1},
		{in: "MTHexapod:0", err: "want CSC:N with N > 0"},
		{in: "MTHexapod:x", err: "want CSC:N with N > 0"},
		{in: "MTHexapod:", err: "want CSC:N with N > 0"},
		{in: "MTHexapod:99999999999", err: "want CSC:N with N > 0"},
		{in: ":1", err: "empty CSC name"},
	} {
		name, index, err := ParseCSC(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseCSC(%q) error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || name != c.name || index != c.index):
			t.Errorf("ParseCSC(%q) = %q, %d, %v; want %q, %d", c.in, name, index, err, c.name, c.index)
		}
	}
}
