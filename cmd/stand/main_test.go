package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadStandExitsTwo checks that a bad stand file is refused with its
// file:line and exit code 2 before anything starts (no influxd, no Kafka:
// the stand is loaded and validated before Up).
func TestBadStandExitsTwo(t *testing.T) {
	cases := []struct {
		file, want string
	}{
		{"testdata/unknown-key.yaml", `testdata/unknown-key.yaml:7: unknown key "zookeeper" in a site`},
		{"testdata/unknown-csc.yaml", `testdata/unknown-csc.yaml:10:20: producer "p": unknown CSC "NoSuchCSC"`},
		{"testdata/missing.yaml", "no such file"},
	}
	for _, c := range cases {
		for _, cmd := range []string{"run", "validate"} {
			t.Run(cmd+" "+c.file, func(t *testing.T) {
				var out, errb bytes.Buffer
				code := run([]string{cmd, c.file, "--report", t.TempDir()}[:map[string]int{"run": 4, "validate": 2}[cmd]], &out, &errb)
				if code != 2 {
					t.Fatalf("exit code %d, want 2; stderr: %s", code, errb.String())
				}
				if !strings.Contains(errb.String(), c.want) {
					t.Fatalf("stderr %q does not contain %q", errb.String(), c.want)
				}
				if strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
					t.Fatalf("want one error line, got %q", errb.String())
				}
			})
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"run"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
		if !strings.Contains(errb.String(), "usage:") {
			t.Fatalf("%v: no usage in %q", args, errb.String())
		}
	}
}
