package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - topics: [x]\n    database: efd\n    timestamp_fromat: unix\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--brokers", "127.0.0.1:1", "--registry", "http://127.0.0.1:1", "--influxdb", "http://127.0.0.1:1"}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"typo in the rules file", append(base, "--rules", rules), rules + `:4:5: rules[0]: unknown key "timestamp_fromat" in a rule`},
		{"no brokers", []string{"--registry", "http://r", "--influxdb", "http://i"}, "brokers and an InfluxDB URL are required"},
		{"bad offset", append(base, "--offset", "middle"), `offset "middle": want oldest or newest`},
		{"bad topic pattern", append(base, "--topics", "("), `topic pattern "("`},
		{"bad timestamp format", append(base, "--topics", "x", "--timestamp-format", "unix_s"), `timestamp format "unix_s"`},
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined"},
		{"password file missing", append(base, "--username", "telegraf", "--password", "@/nonexistent/pw"), "secret file"},
		{"username alone", append(base, "--username", "telegraf"), "--username and --password go together"},
		{"registry password file missing", append(base, "--registry-username", "u", "--registry-password", "@/nonexistent/pw"), "secret file"},
		{"InfluxDB password without a user", append(base, "--influxdb-password", "x"), "an InfluxDB user and password go together"},
		{"InfluxDB password file missing", append(base, "--influxdb-username", "u", "--influxdb-password", "@"+rules+".missing"), "--influxdb-password: secret file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), c.stderr)
			}
		})
	}
}
