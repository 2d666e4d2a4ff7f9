package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadStandExitsTwo runs every stand under testdata/bad: each is
// refused with the error its first line ("# want: ...") documents, on one
// line, with exit code 2, by `validate` and by `run` before anything
// starts (no influxd, no Kafka: the stand is loaded and validated before Up).
func TestBadStandExitsTwo(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) < 15 {
		t.Fatalf("%d bad stands (%v), want the documented set", len(files), err)
	}
	type tc struct{ file, want string }
	cases := []tc{{"testdata/missing.yaml", "no such file"}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		want, ok := strings.CutPrefix(first, "# want: ")
		if !ok || strings.TrimSpace(want) == "" {
			t.Fatalf("%s: the first line must be \"# want: <error>\"", f)
		}
		cases = append(cases, tc{f, strings.TrimSpace(want)})
	}
	for _, c := range cases {
		for _, cmd := range []string{"run", "validate"} {
			t.Run(cmd+" "+c.file, func(t *testing.T) {
				t.Setenv("STAND_TEST_UNSET", "")
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
