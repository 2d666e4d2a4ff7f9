package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"validate", []string{"--file", "testdata/m1m3.yaml", "--validate"}, 0, "File 'testdata/m1m3.yaml' is valid.", ""},
		{"validate a bad file", []string{"--file", "testdata/bad.yaml", "--validate"}, 2, "", `testdata/bad.yaml:5:5: topic_sets[0]: unknown key "compresion" in a topic set`},
		{"file and names", []string{"--file", "testdata/m1m3.yaml", "ATDome"}, 2, "", "--file and CSC names exclude each other"},
		{"validate without file", []string{"--validate"}, 2, "", "--validate needs --file"},
		{"no CSC", []string{"--broker", "x:1", "--registry", "http://x"}, 2, "", "no CSCs given"},
		{"no broker", []string{"--registry", "http://x", "ATDome"}, 2, "", "no broker given"},
		{"no registry", []string{"--broker", "x:1", "ATDome"}, 2, "", "no schema registry given"},
		{"unknown flag", []string{"--frobnicate"}, 2, "", "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("BROKER_IP", "")
			t.Setenv("REGISTRY_ADDR", "")
			t.Setenv("CSC_LIST", "")
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			if code != c.code || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d stdout %q stderr %q; want %d, %q, %q", code, out.String(), errb.String(), c.code, c.stdout, c.stderr)
			}
		})
	}
}

func TestShowSchema(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--show-schema"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var schema map[string]any
	if err := json.Unmarshal(out.Bytes(), &schema); err != nil || schema["title"] != "salkafka producer file" {
		t.Fatalf("not the file's JSON schema: %v\n%s", err, out.String())
	}
}

// TestEnvironmentDefaults: the deployment's variables fill the flags.
func TestEnvironmentDefaults(t *testing.T) {
	t.Setenv("BROKER_IP", "10.0.0.1")
	t.Setenv("BROKER_PORT", "")
	t.Setenv("REGISTRY_ADDR", "")
	t.Setenv("CSC_LIST", "ATDome MTHexapod:1")
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "no schema registry given") {
		t.Fatalf("exit %d: %s (want the registry, and only it, missing)", code, errb.String())
	}
}
