package sasquatch

import (
	"context"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sasquatch/internal/fixture"
)

// TestBadDeployments: each bad input is one error naming the file (and
// the line where there is one); nothing is half read.
func TestBadDeployments(t *testing.T) {
	replace := func(old, new string) [2]string { return [2]string{old, new} }
	cases := []struct {
		name    string
		env     string
		edit    map[string][2]string
		globals map[string]string
		values  []string
		want    []string
	}{
		{name: "a template that does not render", env: "summit",
			edit: map[string][2]string{"templates/topics.yaml": replace("{{ .partitions }}", "{{ .partitions | nosuchfunction }}")},
			want: []string{"render", "topics.yaml", "nosuchfunction"}},
		{name: "a missing values file", env: "base", want: []string{"values of base", "values-base.yaml"}},
		{name: "a missing global", env: "summit", globals: map[string]string{"global.environmentName": ""},
			want: []string{"global.environmentName is required"}},
		{name: "an unknown data_format", env: "summit",
			edit: map[string][2]string{"values-summit.yaml": replace("database: efd\n      topicRegexps: ['lsst\\.sal\\.ATDome']", "database: efd\n      dataFormat: avroo\n      topicRegexps: ['lsst\\.sal\\.ATDome']")},
			want: []string{"ConfigMap sasquatch-telegraf-atdome telegraf.conf:", "data_format", `"avroo": not a Telegraf data format`}},
		{name: "a Java pattern in topic_regexps", env: "summit",
			edit: map[string][2]string{"values-summit.yaml": replace(`['lsst\.sal\.Test']`, `['lsst\.sal\.(?!Test)']`)},
			want: []string{"sasquatch-telegraf-test telegraf.conf:", "topic_regexps", "Go's regexp"}},
		{name: "a topicsPattern Java does not compile", env: "usdf",
			edit: map[string][2]string{"values-usdf.yaml": replace(`lsst\.sal\.(?!MTM1M3).*`, `lsst\.sal\.(?!MTM1M3.*`)},
			want: []string{"KafkaMirrorMaker2 sasquatch", "topicsPattern", `lsst\.sal\.(?!MTM1M3.*`}},
		{name: "a Telegraf option the project does not know", env: "summit",
			edit: map[string][2]string{"templates/telegraf.yaml": replace(`offset = "oldest"`, `offset = "oldest"`+"\n      avro_measurement_nonesuch = 1")},
			want: []string{"telegraf.conf:", "inputs.kafka_consumer[0].avro_measurement_nonesuch", "does not know"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fixture.Copy(t, c.edit)
			_, err := Load(context.Background(), Chart{Dir: dir, Env: c.env, Globals: c.globals, Values: c.values})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Count(msg, "\n") > 0 && !strings.Contains(c.name, "template") {
				t.Errorf("error of %d lines, want one:\n%s", strings.Count(msg, "\n")+1, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
		})
	}
}

// TestTelegrafLines: an unknown option is named with its line in the
// telegraf.conf.
func TestTelegrafLines(t *testing.T) {
	conf := "[agent]\n  metric_batch_size = 100\n\n[[inputs.kafka_consumer]]\n  topics = [\"a\"]\n\n[[inputs.kafka_consumer]]\n  topics = [\"b\"]\n  bogus = 1\n"
	_, err := ParseTelegraf("x", "x.conf", conf)
	if err == nil || !strings.HasPrefix(err.Error(), "x.conf:9: inputs.kafka_consumer[1].bogus:") {
		t.Fatalf("error %v, want x.conf:9: inputs.kafka_consumer[1].bogus", err)
	}
	cs, err := ParseTelegraf("x", "x.conf", strings.Replace(conf, "  bogus = 1\n", "", 1))
	if err != nil || len(cs) != 2 || cs[0].Name != "x#1" || cs[1].MetricBatchSize != 100 {
		t.Fatalf("consumers %v, %v", cs, err)
	}
}
