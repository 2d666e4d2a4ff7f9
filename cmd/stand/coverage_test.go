package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoverageCommand runs stand coverage on the sasquatch package's
// fixture chart: 0 when no error is flagged, 1 when a proposed values
// file makes the USDF read replicated topics through its local registry,
// 2 for bad input, each with what it found on stdout or one error line.
func TestCoverageCommand(t *testing.T) {
	chart := "../../sasquatch/testdata/chart"
	base := filepath.Join(chart, "values-usdf.yaml")
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	proposed := filepath.Join(dir, "values-usdf.yaml")
	if err := os.WriteFile(proposed, []byte(strings.ReplaceAll(string(data), "remote: true", "remote: false")), 0o644); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "coverage.html")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"the fixture", []string{"--phalanx", chart, "--env", "summit,usdf", "--ts-xml=", "--html", html}, 0,
			[]string{"coverage of summit, usdf", "warning mirrored-unread: 1", "usdf mirrors lsst.dm.* from summit"}, ""},
		{"a change that reads replicated topics through the local registry", []string{"--phalanx", chart, "--env", "summit", "--ts-xml=", "--base", base, "--proposed", proposed}, 1,
			[]string{"flags raised: 2", "error wrong-registry usdf: consumer atdome decodes summit topics through sasquatch-schema-registry, which serves local schemas", "topics ingested differently: "}, ""},
		{"a telegraf.conf beside the chart", []string{"--phalanx", chart, "--env", "usdf", "--ts-xml=", "--telegraf", "usdf=testdata/nonesuch.conf"}, 2, nil, "nonesuch.conf"},
		{"an environment the chart has no values for", []string{"--phalanx", chart, "--env", "base", "--ts-xml="}, 2, nil, "values-base.yaml"},
		{"a bad --manifests", []string{"--manifests", "summit", "--ts-xml="}, 2, nil, `--manifests "summit": want ENV=FILE`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"coverage"}, c.args...), &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errb.String())
			}
			for _, w := range c.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout has no %q:\n%s", w, out.String())
				}
			}
			if c.stderr != "" && (!strings.Contains(errb.String(), c.stderr) || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0) {
				t.Errorf("stderr %q: want one line naming %q", errb.String(), c.stderr)
			}
		})
	}
	page, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(page), "summit.lsst.sal.ATDome.position") || !strings.Contains(string(page), "PASS") {
		t.Errorf("coverage.html: %v\n%.500s", err, page)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"coverage", "--phalanx", chart, "--env", "summit,usdf", "--ts-xml=", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errb.String())
	}
	var r struct {
		Envs  []string `json:"envs"`
		Rows  []any    `json:"rows"`
		Flags []struct {
			Kind string `json:"kind"`
		} `json:"flags"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Envs) != 2 || len(r.Rows) == 0 || len(r.Flags) == 0 {
		t.Errorf("--json: %v %+v", err, r)
	}
}
