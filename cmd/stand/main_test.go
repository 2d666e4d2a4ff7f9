package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/reports"
)

// TestBadStandExitsTwo runs every stand of the bad-stand corpus
// (harness/stand/testdata/bad, whose test checks each error's text and
// position): each is refused with the error its first line ("# want:
// ...") documents, on one line, with exit code 2, by `validate` and by
// `run` before anything starts (no influxd, no Kafka: the stand is loaded
// and validated before Up).
func TestBadStandExitsTwo(t *testing.T) {
	files, err := filepath.Glob("../../harness/stand/testdata/bad/*.yaml")
	if err != nil || len(files) < 100 {
		t.Fatalf("%d bad stands (%v), want the whole corpus", len(files), err)
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
		cases = append(cases, tc{f, "testdata/bad/" + strings.TrimSpace(want)})
	}
	for _, c := range cases {
		for _, cmd := range []string{"run", "validate"} {
			t.Run(cmd+" "+filepath.Base(c.file), func(t *testing.T) {
				t.Setenv("STAND_TEST_UNSET", "")
				// The corpus documents its errors for the interfaces each
				// stand names, not for whatever TS_XML_DIR a machine has.
				t.Setenv("TS_XML_DIR", "")
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

// TestReportRerenders writes a results.json the way a run does, then
// re-renders it elsewhere; a file that is not results is refused with 2.
func TestReportRerenders(t *testing.T) {
	src := t.TempDir()
	started := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	res := &reports.Results{
		Run: "20261124T010000Z", Stand: "scenarios/summit-usdf.yaml", Backend: "embedded", Started: started, Finished: started.Add(time.Second),
		Scenarios: []reports.Scenario{{Feature: "features/x.feature", Name: "a scenario worth reading", Status: "passed"}},
	}
	if err := reports.Write(src, res); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", filepath.Join(src, "results.json"), "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil || !strings.Contains(string(page), "a scenario worth reading") {
		t.Fatalf("re-rendered page lacks the scenario: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(bad, []byte(`{"schema": "something/else"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"report", bad}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `schema "something/else"`) {
		t.Fatalf("exit %d, stderr %q; want 2 naming the schema", code, stderr.String())
	}
}

func TestBackendOverride(t *testing.T) {
	cases := []struct{ backend, want string }{
		{"moon", `backend "moon": want embedded, external, process or containers`},
		{"external", `the external backend needs kafka.bootstrap`},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run([]string{"run", "../../scenarios/summit-usdf.yaml", "--backend", c.backend, "--report", t.TempDir()}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("--backend %s: exit %d, stderr %q; want 2 and %q", c.backend, code, errb.String(), c.want)
		}
	}
}
