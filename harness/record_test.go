package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// TestRecordReplayFeature runs features/record.feature: ten seconds of
// the nominal summit recorded from summit Kafka replay into the lab,
// every sample once, every field as recorded; the report holds, for
// every writer the profile ran at the summit, a verdict at the lab's EFD
// with as many samples delivered as were written at the summit.
func TestRecordReplayFeature(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{Stand: "../scenarios/record.yaml", Features: []string{"../features/record.feature"}, ReportDir: t.TempDir(), Output: testOutput(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || len(res.Results.Scenarios) != 1 {
		t.Fatalf("the feature did not pass:\n%s", Summary(res))
	}
	summit, lab := map[string]int{}, map[string]int{}
	for _, tp := range res.Results.Scenarios[0].Topics {
		switch {
		case strings.HasPrefix(tp.Target, "kafka@summit/"):
			summit[tp.Topic+" "+tp.Identity] = tp.Sent
		case tp.Target == "influxdb@lab/efd":
			lab[tp.Topic+" "+tp.Identity] = tp.Delivered
			if tp.Sent == 0 || tp.Delivered != tp.Sent || tp.Lost != 0 {
				t.Errorf("%s: sent %d, delivered %d, lost %d", tp.Label(), tp.Sent, tp.Delivered, tp.Lost)
			}
		}
	}
	// The builtin interfaces' telemetry of the four CSCs the producers serve.
	if len(summit) < 8 || !maps.Equal(summit, lab) {
		t.Errorf("written at the summit %v, delivered at the lab %v: want every writer's every sample", summit, lab)
	}
	if !strings.Contains(Summary(res), "MTM1M3.forceActuatorData") {
		t.Errorf("no M1M3 forceActuatorData verdict:\n%s", Summary(res))
	}
}

// TestRecordingHolds: a recording of what was written holds every
// sample; one with a sample left out, one twice, or a value changed does
// not, and the check names what differs.
func TestRecordingHolds(t *testing.T) {
	ifaces, err := sal.Load(sample.FS)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Stand: &Stand{Loaded: ifaces}}
	bus := dds.NewBus()
	defer bus.Close()
	var rec bytes.Buffer
	r, err := mocksal.NewRecorder(&rec)
	if err != nil {
		t.Fatal(err)
	}
	r.Attach(bus, 0)
	pos := ifaces.Topic("ATDome", "position")
	tr := observe.NewTraffic(pos, 0, 77, 0)
	if _, err := mocksal.Run(context.Background(), bus, mocksal.WriterConfig{Topic: pos, Count: 5, Origin: 77}, tr.Record); err != nil {
		t.Fatal(err)
	}
	tr.Finish(nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(rec.String(), "\n") // header, schema, 5 samples, ""
	changed := func() string {
		s := tr.Writes()[1]
		smp := &sal.Sample{Topic: pos, Values: slices.Clone(s.Values)}
		smp.Values[pos.FieldIndex("azimuthPosition")] = 1234.5
		data, _ := pos.AppendAvro(nil, smp)
		line, _ := json.Marshal(map[string]any{"t": 0.1, "schema": 1, "domain": 0, "prefix": "", "avro": base64.StdEncoding.EncodeToString(data)})
		return string(line) + "\n"
	}()
	cases := []struct{ name, recording, want string }{
		{"as written", rec.String(), ""},
		{"a sample left out", strings.Join(slices.Delete(slices.Clone(lines), 4, 5), ""), "ATDome.position: 1 of 5 samples written are not in the recording (seqNums 3)"},
		{"a sample twice", rec.String() + lines[3], "line 8: ATDome.position seqNum 2 recorded twice"},
		{"a value changed", strings.Join(slices.Replace(slices.Clone(lines), 3, 4, changed), ""), "line 4: ATDome.position seqNum 2: azimuthPosition is 1234.5, written"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.jsonl")
			os.WriteFile(path, []byte(c.recording), 0o644)
			diffs, n, err := e.RecordingHolds(path, []*Traffic{tr}, 10)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(diffs, "\n")
			if c.want == "" && (got != "" || n != 5) {
				t.Fatalf("%d compared, differences:\n%s", n, got)
			}
			if !strings.Contains(got, c.want) {
				t.Fatalf("differences:\n%s\nwant %q", got, c.want)
			}
		})
	}
}
