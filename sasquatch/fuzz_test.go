package sasquatch

import (
	"time"

	"context"
	"regexp"
	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"
)

// rendered is the test chart rendered for both environments: the seeds of
// the importers' fuzz targets.
func rendered(f *testing.F) [][]byte {
	var out [][]byte
	for _, env := range []string{"summit", "usdf"} {
		data, err := Render(context.Background(), Chart{Dir: "testdata/chart", Env: env})
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzParseManifests feeds rendered manifests (a YAML stream of Strimzi,
// registry and Telegraf resources) to the deployment importer: a
// deployment or an error, never a panic.
func FuzzParseManifests(f *testing.F) {
	for _, data := range rendered(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzx.Within(5*time.Second, func() {
			d, err := ParseManifests("fuzz", "fuzz.yaml", data)
			if err == nil && d == nil {
				t.Fatal("no deployment and no error")
			}
			ParseMirrorMaker2("fuzz", "fuzz.yaml", data)
		})
	})
}

// FuzzParseTelegraf feeds telegraf.conf text to the Telegraf importer.
func FuzzParseTelegraf(f *testing.F) {
	conf := regexp.MustCompile(`(?s)telegraf\.conf: \|\n(.*?)\n---`)
	for _, data := range rendered(f) {
		for _, m := range conf.FindAllSubmatch(data, -1) {
			f.Add(string(m[1]))
		}
	}
	f.Add("[agent]\n  flush_interval = \"1s\"\n[[inputs.kafka_consumer]]\n  brokers = [\"x:9092\"]\n  topic_regexps = [\"lsst\\\\.sal\\\\..*\"]\n  data_format = \"avro\"\n[[outputs.influxdb]]\n  urls = [\"http://x:8086\"]\n  database = \"efd\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		fuzzx.Within(5*time.Second, func() {
			ParseTelegraf("fuzz", "telegraf.conf", text)
		})
	})
}
