package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/reports"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// verdictTraffic is a writer's ledger of sent samples, seen at each tap
// as far as the given counts say (the first n seqNums).
type verdictTraffic struct {
	index int32
	sent  int
	seen  map[Target]int // tap target → seqNums seen there
}

var (
	atSummit = observe.Kafka("summit", "lsst.sal.MTHexapod.actuators")
	atUSDF   = observe.Kafka("usdf", "summit.lsst.sal.MTHexapod.actuators")
	atEFD    = observe.Influx("usdf", "efd")
)

// TestVerdictRows checks how a scenario's verdicts become report rows: one
// per topic, identity and target, whichever order the checks come in and
// however often one is made again, each with its own figures, and every
// row in the run summary, results.json and index.html.
func TestVerdictRows(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	topic := ifaces.Topic("MTHexapod", "actuators")
	one := verdictTraffic{index: 1, sent: 20, seen: map[Target]int{atSummit: 20, atUSDF: 20, atEFD: 20}}
	two := verdictTraffic{index: 2, sent: 10, seen: map[Target]int{atSummit: 10, atUSDF: 7, atEFD: 4}}
	type check struct {
		w     *verdictTraffic
		where Target
	}
	type row struct {
		identity        string
		target          Target
		sent, delivered int
	}
	cases := []struct {
		name   string
		checks []check
		want   []row
	}{
		{"two indices at one target, the first checked again",
			[]check{{&one, atEFD}, {&two, atEFD}, {&one, atEFD}},
			[]row{{"MTHexapod:1", atEFD, 20, 20}, {"MTHexapod:2", atEFD, 10, 4}}},
		{"one identity in Kafka, then in the database",
			[]check{{&one, atUSDF}, {&one, atEFD}},
			[]row{{"MTHexapod:1", atUSDF, 20, 20}, {"MTHexapod:1", atEFD, 20, 20}}},
		{"two indices at two targets, checked again in another order",
			[]check{{&one, atUSDF}, {&two, atUSDF}, {&one, atEFD}, {&two, atEFD}, {&two, atUSDF}, {&one, atEFD}},
			[]row{{"MTHexapod:1", atUSDF, 20, 20}, {"MTHexapod:2", atUSDF, 10, 7}, {"MTHexapod:1", atEFD, 20, 20}, {"MTHexapod:2", atEFD, 10, 4}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := &Scenario{taps: map[*Traffic][]*Tap{}}
			traffic := map[*verdictTraffic]*Traffic{}
			for _, w := range []*verdictTraffic{&one, &two} {
				traffic[w] = verdictLedger(sc, topic, *w)
			}
			for _, ch := range c.checks {
				sc.Verdict(traffic[ch.w], ch.where)
			}
			got := sc.Results()
			if len(got) != len(c.want) {
				t.Fatalf("%d rows, want %d: %v", len(got), len(c.want), labels(got))
			}
			for i, w := range c.want {
				g := got[i]
				if g.Topic != "lsst.sal.MTHexapod.actuators" || g.Identity != w.identity || g.Target != w.target.String() || g.Sent != w.sent || g.Delivered != w.delivered || g.Lost != w.sent-w.delivered {
					t.Errorf("row %d: %s sent %d delivered %d lost %d; want %s %s sent %d delivered %d",
						i, g.Label(), g.Sent, g.Delivered, g.Lost, w.identity, w.target, w.sent, w.delivered)
				}
			}

			dir := t.TempDir()
			res := &reports.Results{Schema: reports.SchemaV1, Run: "r", Stand: "scenarios/summit-usdf.yaml", Backend: "embedded",
				Scenarios: []reports.Scenario{{Feature: "f.feature", Name: c.name, Status: "passed", Topics: got}}}
			if err := reports.Write(dir, res); err != nil {
				t.Fatal(err)
			}
			summary := Summary(&RunResult{Passed: true, ReportDir: dir, Results: res})
			page, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := reports.Load(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			rows := loaded.Scenarios[0].Topics
			if len(rows) != len(c.want) {
				t.Fatalf("results.json: %d rows, want %d", len(rows), len(c.want))
			}
			for i, w := range c.want {
				label := fmt.Sprintf("lsst.sal.MTHexapod.actuators %s → %s", w.identity, w.target)
				if rows[i].Identity != w.identity || rows[i].Target != w.target.String() || rows[i].Delivered != w.delivered {
					t.Errorf("results.json row %d: %s delivered %d, want %s delivered %d", i, rows[i].Label(), rows[i].Delivered, label, w.delivered)
				}
				line := fmt.Sprintf("%s: sent %d, delivered %d, lost %d,", label, w.sent, w.delivered, w.sent-w.delivered)
				if strings.Count(summary, line) != 1 {
					t.Errorf("summary has %d lines %q, want 1:\n%s", strings.Count(summary, line), line, summary)
				}
				// The heading, then the figures table's row.
				heading := fmt.Sprintf(`%s: <span`, label)
				at := strings.Index(string(page), heading)
				if at < 0 || strings.Count(string(page), heading) != 1 {
					t.Errorf("index.html: %d headings %q, want 1", strings.Count(string(page), heading), heading)
					continue
				}
				figures := fmt.Sprintf(`<td class="num">%d</td><td class="num">%d</td><td class="num">%d</td>`, w.sent, w.delivered, w.sent-w.delivered)
				section := string(page[at+len(heading):])
				if next := strings.Index(section, "<h3"); next >= 0 {
					section = section[:next]
				}
				if !strings.Contains(section, figures) {
					t.Errorf("index.html: %s not followed by its figures %s", label, figures)
				}
			}
			js, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(js), `"identity": "MTHexapod:1"`) {
				t.Errorf("results.json has no identity field:\n%s", js)
			}
		})
	}
}

// verdictLedger registers a finished writer of topic in sc with taps at
// the summit, the USDF and its EFD that saw the first seqNums of it.
func verdictLedger(sc *Scenario, topic *sal.Topic, w verdictTraffic) *Traffic {
	t0 := time.Now().Add(-time.Minute)
	tr := observe.NewTraffic(topic, w.index, 4242+w.index, 10)
	tr.Start = t0
	for seq := range w.sent {
		tr.Record(mocksal.Write{CSC: topic.CSC, Topic: topic.Name, Index: w.index, SeqNum: int32(seq + 1),
			SndStamp: float64(t0.Add(time.Duration(seq)*100*time.Millisecond).UnixMicro())/1e6 + 37})
	}
	tr.Finish(nil)
	var taps []*Tap
	for _, at := range []Target{atSummit, atUSDF, atEFD} {
		tap := observe.NewTap(at)
		for seq := range w.seen[at] {
			tap.Saw(int32(seq+1), 0, 0, t0.Add(time.Duration(seq)*100*time.Millisecond+5*time.Millisecond))
		}
		if len(taps) > 0 {
			tap.After(taps[len(taps)-1])
		}
		taps = append(taps, tap)
	}
	sc.traffic = append(sc.traffic, tr)
	sc.taps[tr] = taps
	return tr
}

func labels(rows []reports.Topic) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s (delivered %d)", r.Label(), r.Delivered))
	}
	return out
}
