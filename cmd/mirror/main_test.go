package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "mm2.properties")
	if err := os.WriteFile(bad, []byte("clusters = summit, usdf\nsummit.bootstrap.servers = a:1\nusdf.bootstrap.servers = b:1\nsummit->usdf.enabled = true\nsummit->usdf.topcs = lsst.sal.*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"typo in the properties file", []string{"--config", bad}, 2, bad + `:5: summit->usdf.topcs: unknown flow setting "topcs"`},
		{"missing properties file", []string{"--config", filepath.Join(dir, "none.properties")}, 2, "no such file"},
		{"no aliases", []string{"--source-brokers", "a:1", "--target-brokers", "b:1"}, 2, "source and target aliases are required"},
		{"same alias", []string{"--source-alias", "x", "--target-alias", "x", "--source-brokers", "a:1", "--target-brokers", "b:1"}, 2, "same cluster"},
		{"bad policy", []string{"--source-alias", "a", "--target-alias", "b", "--source-brokers", "a:1", "--target-brokers", "b:1", "--policy", "mirror"}, 2, `policy "mirror"`},
		{"bad pattern", []string{"--source-alias", "a", "--target-alias", "b", "--source-brokers", "a:1", "--target-brokers", "b:1", "--topics", "("}, 2, `topics pattern "("`},
		{"unknown flag", []string{"--frobnicate"}, 2, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			if code != c.code || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d stderr %q; want %d, %q", code, errb.String(), c.code, c.stderr)
			}
		})
	}
}
