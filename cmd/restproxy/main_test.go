package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput: each bad flag or tokens file exits 2 with one line naming
// what is wrong (and where, for a file).
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no brokers", []string{}, "--brokers is required"},
		{"missing tokens file", []string{"--brokers", "127.0.0.1:1", "--tokens", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"unknown key", []string{"--brokers", "127.0.0.1:1", "--tokens", file("unknown.yaml", "tokens: {t: [lsst.dm]}\nusers: []\n")}, "unknown.yaml:2"},
		{"no prefixes", []string{"--brokers", "127.0.0.1:1", "--tokens", file("empty.yaml", "tokens: {t: []}\n")}, "empty.yaml: a token has no topic prefixes"},
		{"wildcard prefix", []string{"--brokers", "127.0.0.1:1", "--tokens", file("glob.yaml", "tokens: {secret: ['lsst.*']}\n")}, `prefix "lsst.*"`},
		{"no tokens", []string{"--brokers", "127.0.0.1:1", "--tokens", file("none2.yaml", "tokens: {}\n")}, "no tokens listed"},
		{"bad flag", []string{"--nope"}, "flag provided but not defined"},
		{"password file missing", []string{"--brokers", "127.0.0.1:1", "--username", "rest-proxy", "--password", "@" + filepath.Join(dir, "nopw")}, "secret file"},
		{"bad protocol", []string{"--brokers", "127.0.0.1:1", "--security-protocol", "TLS"}, `security protocol "TLS"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(c.args, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q does not name %q", stderr.String(), c.want)
			}
		})
	}
}
