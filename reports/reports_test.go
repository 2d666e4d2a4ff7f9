package reports

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleResults() *Results {
	t0 := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 100 {
		pts = append(pts, Point{At: t0.Add(time.Duration(i) * 100 * time.Millisecond), LatencyMS: float64(5 + i%7)})
	}
	return &Results{
		Schema: SchemaV1, Run: "20261124T010000Z", Stand: "scenarios/summit-usdf.yaml", Backend: "embedded",
		Versions: map[string]string{"influxd": "1.8.10"}, Started: t0, Finished: t0.Add(12 * time.Second),
		Scenarios: []Scenario{
			{Feature: "features/delivery.feature", Name: "delivered", Status: "passed", Duration: 5 * time.Second,
				Topics: []Topic{{Topic: "lsst.sal.ATDome.position", Target: "influxdb@usdf/efd", Sent: 100, Delivered: 100,
					Hops: []Hop{HopFromLatencies("→kafka@summit", pts, 100*time.Millisecond), HopFromLatencies("end-to-end", pts, 0)}}},
				Faults: []Fault{
					{Target: "the link from summit to usdf", Fault: "partition", Set: t0, Healed: t0.Add(60 * time.Second), CatchUpMS: 23366, Held: 3660, Duplicated: 18, Measured: true},
					{Target: "the InfluxDB at usdf", Fault: "blackhole", Set: t0, Healed: t0.Add(30 * time.Second)},
				}},
			{Feature: "features/delivery.feature", Name: "lossy <script>alert(1)</script>", Status: "failed",
				FailedStep: `every sample is in database "efd"`, Error: "lost 3 <b>samples</b>", Duration: time.Second,
				Topics: []Topic{{Topic: "lsst.sal.ATDome.position", Target: "influxdb@usdf/efd", Sent: 10, Delivered: 7, Lost: 3,
					Missing: []int64{4, 5, 9}, Hops: []Hop{HopFromLatencies("end-to-end", nil, 0)}}}},
		},
		Notes: []string{"InfluxDB visibility polled every 50ms."},
	}
}

func TestWriteAndLoad(t *testing.T) {
	dir := t.TempDir()
	r := sampleResults()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	checks := []struct {
		what string
		ok   bool
	}{
		{"FAIL banner (not passed)", strings.Contains(html, `class="banner FAIL"`)},
		{"inline svg charts", strings.Count(html, "<svg") >= 2},
		{"error text escaped", strings.Contains(html, "lost 3 &lt;b&gt;samples&lt;/b&gt;")},
		{"scenario name escaped", strings.Contains(html, "lossy &lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(html, "<script>alert")},
		{"missing seqNums listed", strings.Contains(html, "4, 5, 9")},
		{"failing step shown", strings.Contains(html, "every sample is in database")},
		{"empty hop explained", strings.Contains(html, "no sample seen here")},
		{"measured fault: lasted, catch-up, held, duplicated", regexp.MustCompile(`partition</td><td>the link from summit to usdf</td><td class="num">60.0</td><td class="num">23.4</td><td class="num">3660</td><td class="num">18</td>`).MatchString(html)},
		{"unmeasured fault said so", strings.Contains(html, `30.0</td><td class="num" colspan="3">not measured`)},
		{"no external resources", !regexp.MustCompile(`(?i)<script[^>]+src|<link[^>]+href|url\(\s*['"]?https?:|@import|<img[^>]+src=["']?https?:`).MatchString(html)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("index.html: %s", c.what)
		}
	}
	for _, m := range regexp.MustCompile(`<svg[^>]*>`).FindAllString(html, -1) {
		if !regexp.MustCompile(`width="[1-9]`).MatchString(m) || !regexp.MustCompile(`height="[1-9]`).MatchString(m) {
			t.Errorf("chart without a size: %s", m)
		}
	}
	got, err := Load(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, got); d != "" {
		t.Errorf("results.json round trip (-wrote +read):\n%s", d)
	}
	if _, err := Load(filepath.Join(dir, "index.html")); err == nil {
		t.Error("Load of a non-JSON file: no error")
	}
}

func TestHopFromLatencies(t *testing.T) {
	var pts []Point
	for i := 1; i <= 100; i++ {
		pts = append(pts, Point{LatencyMS: float64(i)})
	}
	cases := []struct {
		name                string
		interval            time.Duration
		p50, p99, max, tol  float64
		moreThanSamplesSeen bool
	}{
		{"uncorrected", 0, 50, 99, 100, 0.1, false},
		// At a 10 ms interval a latency of L ms also records L-10, L-20, …
		// ms for the samples a stalled writer would have sent meanwhile:
		// 595 values in all, whose median is 37 and p99 95.
		{"corrected", 10 * time.Millisecond, 37, 95, 100, 0.1, true},
	}
	for _, c := range cases {
		h := HopFromLatencies("x", pts, c.interval)
		near := func(got, want float64) bool { return got >= want-c.tol && got <= want+c.tol }
		if !near(h.P50, c.p50) || !near(h.P99, c.p99) || !near(h.Max, c.max) {
			t.Errorf("%s: p50 %.2f p99 %.2f max %.2f; want %.0f %.0f %.0f (±%.1f)", c.name, h.P50, h.P99, h.Max, c.p50, c.p99, c.max, c.tol)
		}
		if h.Count != 100 || h.Corrected != c.moreThanSamplesSeen {
			t.Errorf("%s: count %d corrected %v", c.name, h.Count, h.Corrected)
		}
	}
	if h := HopFromLatencies("empty", nil, 0); h.Count != 0 || h.P99 != 0 {
		t.Errorf("empty hop: %+v", h)
	}
}

// TestLoadWithoutIdentity reads a results.json written before verdicts
// carried the writer's identity: `stand report` renders it as it did.
func TestLoadWithoutIdentity(t *testing.T) {
	dir := t.TempDir()
	old := `{"schema": "teststand/results/v1", "run": "r", "stand": "s.yaml", "backend": "embedded",
  "started": "2026-11-24T01:00:00Z", "finished": "2026-11-24T01:00:05Z", "passed": true,
  "scenarios": [{"feature": "f", "name": "n", "status": "passed", "duration_ns": 1,
    "topics": [{"topic": "lsst.sal.ATDome.position", "target": "influxdb@usdf/efd", "sent": 3, "delivered": 3, "lost": 0,
      "duplicated": 0, "reordered": 0, "hops": []}]}]}`
	path := filepath.Join(dir, "results.json")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "lsst.sal.ATDome.position → influxdb@usdf/efd: <span") {
		t.Errorf("index.html lacks the old row's heading:\n%s", page)
	}
}

func TestTopicLabel(t *testing.T) {
	cases := []struct {
		topic Topic
		want  string
	}{
		{Topic{Topic: "lsst.sal.MTHexapod.actuators", Identity: "MTHexapod:2", Target: "influxdb@usdf/efd"}, "lsst.sal.MTHexapod.actuators MTHexapod:2 → influxdb@usdf/efd"},
		{Topic{Topic: "lsst.sal.ATDome.position", Identity: "ATDome", Target: "kafka@usdf/summit.lsst.sal.ATDome.position"}, "lsst.sal.ATDome.position → kafka@usdf/summit.lsst.sal.ATDome.position"},
		{Topic{Topic: "lsst.sal.ATDome.position", Target: "influxdb@usdf/efd"}, "lsst.sal.ATDome.position → influxdb@usdf/efd"},
		{Topic{Topic: "aliecs.run", Identity: "teststand-ecs-1", Target: "kafka@summit/aliecs.run"}, "aliecs.run teststand-ecs-1 → kafka@summit/aliecs.run"},
	}
	for _, c := range cases {
		if got := c.topic.Label(); got != c.want {
			t.Errorf("Label %q, want %q", got, c.want)
		}
	}
}

func TestPut(t *testing.T) {
	a := Topic{Topic: "x", Identity: "C:1", Target: "influxdb@usdf/efd", Sent: 1}
	b := Topic{Topic: "x", Identity: "C:2", Target: "influxdb@usdf/efd", Sent: 2}
	c := Topic{Topic: "x", Identity: "C:1", Target: "kafka@usdf/x", Sent: 3}
	rows := Put(Put(Put(nil, a), b), c)
	a.Delivered = 1
	rows = Put(rows, a)
	want := []Topic{a, b, c}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// TestChartedTopics: a scenario with more topics than are drawn draws its
// failed ones first, then the busiest, and no more than the bound.
func TestChartedTopics(t *testing.T) {
	ts := make([]Topic, MaxChartedTopics+10)
	for i := range ts {
		ts[i].Sent = i
	}
	ts[0].Lost = 1 // the least busy, but failed
	got := chartedTopics(ts)
	if len(got) != MaxChartedTopics || !got[0] || !got[len(ts)-1] || got[1] {
		t.Fatalf("charted %v: want %d topics, the failed one and the busiest", got, MaxChartedTopics)
	}
}
