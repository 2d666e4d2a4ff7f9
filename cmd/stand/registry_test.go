package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-ts/teststand/registry"
)

func TestRegistryCommands(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	dir := t.TempDir()
	write := func(name, schema string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(schema), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v1 := write("v1.avsc", `{"type":"record","name":"position","namespace":"lsst.sal.ATDome","fields":[{"name":"a","type":"double","default":0.0}]}`)
	v2 := write("v2.avsc", `{"type":"record","name":"position","namespace":"lsst.sal.ATDome","fields":[{"name":"a","type":"double","default":0.0},{"name":"b","type":"int","default":0}]}`)
	bad := write("bad.avsc", `{"type":"record","name":"position","namespace":"lsst.sal.ATDome","fields":[{"name":"a","type":"string"}]}`)
	steps := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"upload", "lsst.sal.ATDome.position-value", v1}, 0, "with id 1"},
		{[]string{"test", "lsst.sal.ATDome.position-value", v2}, 0, "compatible with"},
		{[]string{"test", "lsst.sal.ATDome.position-value", bad}, 1, "NOT compatible"},
		{[]string{"upload", "lsst.sal.ATDome.position-value", v2}, 0, "with id 2"},
		{[]string{"list", "--versions", "--compatibility"}, 0, "lsst.sal.ATDome.position-value  versions [1 2]  compatibility BACKWARD"},
		{[]string{"show", "lsst.sal.ATDome.position-value", "--version", "1"}, 0, "version 1 id 1"},
		{[]string{"compat", "--set", "FULL"}, 0, "(global) FULL"},
		{[]string{"compat", "--subject", "lsst.sal.ATDome.position-value", "--set", "NONE"}, 0, "lsst.sal.ATDome.position-value NONE"},
		{[]string{"delete", "lsst.sal.ATDome.position-value", "--version", "1"}, 0, "deleted lsst.sal.ATDome.position-value version 1"},
		{[]string{"delete", "lsst.sal.ATDome.position-value"}, 0, "versions [2]"},
		{[]string{"delete", "lsst.sal.ATDome.position-value", "--permanent"}, 0, "versions [1 2]"},
		{[]string{"show", "nope"}, 1, ""},
		{[]string{"frobnicate"}, 2, ""},
	}
	for _, s := range steps {
		var out, errb bytes.Buffer
		code := run(append([]string{"registry", "--url", reg.URL()}, s.args...), &out, &errb)
		if code != s.code || !strings.Contains(out.String(), s.stdout) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", s.args, code, out.String(), errb.String(), s.code, s.stdout)
		}
	}
}
