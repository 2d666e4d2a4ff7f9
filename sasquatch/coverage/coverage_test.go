package coverage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
	"github.com/lsst-ts/teststand/sasquatch"
	"github.com/lsst-ts/teststand/sasquatch/internal/fixture"
)

// deployments renders the sasquatch package's fixture chart (copied, with
// edits) for its summit and USDF.
func deployments(t *testing.T, edits map[string][2]string) []*sasquatch.Deployment {
	t.Helper()
	dst := fixture.Copy(t, edits)
	var out []*sasquatch.Deployment
	for _, env := range []string{"summit", "usdf"} {
		d, err := sasquatch.Load(context.Background(), sasquatch.Chart{Dir: dst, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func keys(r *Report) []string {
	var out []string
	for _, f := range r.Flags {
		out = append(out, fmt.Sprintf("%s %s %s %s", f.Severity, f.Kind, f.Env, f.Subject))
	}
	return out
}

// TestFlags: the fixture's summit and USDF raise the flags they should,
// and each break of one layer raises its own flag (an error fails the
// gate).
func TestFlags(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Interfaces: ifaces}
	base := Compute(deployments(t, nil), opts)
	// The fixture's own: summit's obsenv topic and the sample CSCs no
	// consumer takes, the USDF's mirrored lsst.dm that nothing reads,
	// and the USDF's test consumer's undelivered size and settings.
	for _, want := range []string{
		"warning unconsumed summit lsst.obsenv.action",
		"warning mirrored-unread usdf lsst.dm.*",
		"warning undelivered-size usdf test",
		"warning settings-differ usdf test",
	} {
		if !slices.Contains(keys(base), want) {
			t.Errorf("flags %v: want %q", keys(base), want)
		}
	}
	if base.Errors() != 0 {
		t.Fatalf("the fixture raises errors: %v", keys(base))
	}
	// Every sample topic of ATDome and Test is ingested at both sites,
	// the USDF's through the remote registry of the summit.
	for _, row := range base.Rows {
		if !strings.Contains(row.Base, ".ATDome.") && !strings.Contains(row.Base, ".Test.") {
			continue
		}
		if len(row.Ingests) != 1 || row.Ingests[0].Databases[0] != "efd" {
			t.Errorf("%s at %s: ingests %+v, want one into efd", row.Topic, row.Env, row.Ingests)
		}
		if row.Env == "usdf" && (row.Origin != "mirrored from summit" || row.Ingests[0].RegistryServes != "summit" || !strings.HasPrefix(row.Topic, "summit.")) {
			t.Errorf("%s at usdf: %+v", row.Topic, row)
		}
	}
	cases := []struct {
		name  string
		edits map[string][2]string
		want  string
	}{
		{"a consumer of replicated topics on the local registry",
			map[string][2]string{"values-usdf.yaml": {"topicRegexps: ['summit\\.lsst\\.sal\\.Test']\n      timestampField: private_efdStamp\n      timestampFormat: unix\n      remote: true", "topicRegexps: ['summit\\.lsst\\.sal\\.Test']\n      timestampField: private_efdStamp\n      timestampFormat: unix\n      remote: false"}},
			"error wrong-registry usdf test"},
		{"two consumers of one database",
			map[string][2]string{"values-summit.yaml": {"    test:\n", "    test2:\n      database: efd\n      topicRegexps: ['lsst\\.sal\\.Test\\.logevent']\n      timestampField: private_efdStamp\n      timestampFormat: unix\n      maxUndelivered: 10000\n    test:\n"}},
			"error duplicate summit test, test2"},
		{"Telegraf above the brokers' Kafka",
			map[string][2]string{"values.yaml": {`kafkaVersion: "3.9.1"`, `kafkaVersion: "4.2.0"`}},
			"error kafka-version summit atdome"},
		{"a mirror whose topics nobody reads",
			map[string][2]string{"values-usdf.yaml": {`topicRegexps: ['summit\.lsst\.sal\.ATDome']`, `topicRegexps: ['summit\.lsst\.sal\.ATDomeX']`}},
			"warning unconsumed usdf summit.lsst.sal.ATDome.position"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Compute(deployments(t, c.edits), opts)
			if !slices.Contains(keys(r), c.want) {
				t.Fatalf("flags %v: want %q", keys(r), c.want)
			}
			if strings.HasPrefix(c.want, "error") && r.Errors() == 0 {
				t.Error("no error counted")
			}
		})
	}
}
