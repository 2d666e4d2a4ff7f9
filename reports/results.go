package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lsst-ts/teststand/internal/atomicfile"
)

// SchemaV1 names the results.json format below.
const SchemaV1 = "teststand/results/v1"

// Results are the figures of one run (results.json). Times are RFC 3339,
// durations nanoseconds, latencies milliseconds.
type Results struct {
	Schema    string            `json:"schema"`
	Run       string            `json:"run"`
	Stand     string            `json:"stand"`
	Backend   string            `json:"backend"`
	Versions  map[string]string `json:"versions,omitempty"`
	Started   time.Time         `json:"started"`
	Finished  time.Time         `json:"finished"`
	Passed    bool              `json:"passed"`
	Scenarios []Scenario        `json:"scenarios"`
	Notes     []string          `json:"notes,omitempty"`
}

// Scenario is one scenario's verdict and the topics it checked.
type Scenario struct {
	Feature string `json:"feature"`
	Name    string `json:"name"`
	// Stand is the stand file the scenario ran on, when a run used more
	// than one (features tagged @stand:NAME).
	Stand      string        `json:"stand,omitempty"`
	Status     string        `json:"status"` // passed, failed, skipped, undefined
	FailedStep string        `json:"failed_step,omitempty"`
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
	Topics     []Topic       `json:"topics,omitempty"`
	// Faults are the network faults the scenario put on the stand.
	Faults []Fault `json:"faults,omitempty"`
}

// Fault is one network fault a scenario put on the stand, and what it
// cost once a step measured it.
type Fault struct {
	// Target is where it acted ("the link from summit to usdf"), Fault
	// what it was ("partition", "latency 100ms").
	Target string    `json:"target"`
	Fault  string    `json:"fault"`
	Set    time.Time `json:"set"`
	// Healed is when it was taken off (zero while it lasts).
	Healed time.Time `json:"healed,omitzero"`
	// CatchUpMS is how long after the heal the last sample written before
	// it reached its target; Held how many samples written during the
	// fault arrived only after the heal; Duplicated the duplicates the
	// verdicts it was measured from counted. Set by a catch-up step.
	CatchUpMS  float64 `json:"catch_up_ms,omitempty"`
	Held       int     `json:"held,omitempty"`
	Duplicated int     `json:"duplicated,omitempty"`
	Measured   bool    `json:"measured,omitempty"`
}

// Topic is the delivery verdict of one writer's samples at one target. A
// scenario has one per topic, identity and target it checked (see Key):
// two indices of a CSC write the same topic, and one topic is often
// checked at several targets (a Kafka topic, then the EFD).
type Topic struct {
	Topic string `json:"topic"`
	// Identity is the writer's private_identity: "MTHexapod:1" for an
	// indexed CSC, "ATDome" for one that is not. Results written before
	// it was recorded have none.
	Identity   string  `json:"identity,omitempty"`
	Target     string  `json:"target"`
	Sent       int     `json:"sent"`
	Delivered  int     `json:"delivered"`
	Lost       int     `json:"lost"`
	Duplicated int     `json:"duplicated"`
	Reordered  int     `json:"reordered"`
	Missing    []int64 `json:"missing_seqnums,omitempty"`
	Hops       []Hop   `json:"hops"`
}

// TopicKey identifies a verdict within a scenario.
type TopicKey struct{ Topic, Identity, Target string }

// Key is what tells t apart from a scenario's other verdicts.
func (t Topic) Key() TopicKey { return TopicKey{t.Topic, t.Identity, t.Target} }

// Name names the samples: the topic, and the writer's identity where the
// topic's name does not say it already ("lsst.sal.MTHexapod.actuators
// MTHexapod:1", but "lsst.sal.ATDome.position").
func (t Topic) Name() string {
	if t.Identity == "" || strings.Contains("."+t.Topic+".", "."+t.Identity+".") {
		return t.Topic
	}
	return t.Topic + " " + t.Identity
}

// Label names the verdict: its samples and its target.
func (t Topic) Label() string { return t.Name() + " → " + t.Target }

// Put records t among a scenario's verdicts: it replaces the verdict of
// the same key (a check made again sees more) and is appended otherwise,
// so that every identity and every target checked keeps its own.
func Put(rows []Topic, t Topic) []Topic {
	for i := range rows {
		if rows[i].Key() == t.Key() {
			rows[i] = t
			return rows
		}
	}
	return append(rows, t)
}

// Hop is the latency from private_sndStamp to one observation point.
type Hop struct {
	Name  string  `json:"name"`
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
	// Corrected says whether coordinated-omission correction was applied.
	Corrected bool    `json:"co_corrected,omitempty"`
	Series    []Point `json:"series,omitempty"`
}

// Point is one sample's latency, by its send time.
type Point struct {
	At        time.Time `json:"at"`
	LatencyMS float64   `json:"latency_ms"`
}

// HopFromLatencies summarises latencies with an HdrHistogram (1 µs to 1 h,
// 3 significant digits). With expectedInterval > 0 (paced traffic) each
// latency longer than the interval also records the samples a stalled
// writer would have sent meanwhile (coordinated-omission correction).
func HopFromLatencies(name string, pts []Point, expectedInterval time.Duration) Hop {
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	interval := int64(expectedInterval / time.Microsecond)
	for _, p := range pts {
		us := int64(math.Round(p.LatencyMS * 1000))
		if us < 1 {
			us = 1
		}
		if interval > 0 {
			_ = h.RecordCorrectedValue(us, interval)
		} else {
			_ = h.RecordValue(us)
		}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	hop := Hop{Name: name, Count: int64(len(pts)), Corrected: interval > 0, Series: pts}
	if len(pts) == 0 {
		return hop
	}
	hop.P50 = ms(h.ValueAtQuantile(50))
	hop.P90 = ms(h.ValueAtQuantile(90))
	hop.P99 = ms(h.ValueAtQuantile(99))
	hop.P999 = ms(h.ValueAtQuantile(99.9))
	hop.Max = ms(h.Max())
	hop.Mean = h.Mean() / 1000
	return hop
}

// Write writes index.html and results.json into dir, each atomically.
func Write(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if r.Schema == "" {
		r.Schema = SchemaV1
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("reports: results.json: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, "results.json"), js); err != nil {
		return err
	}
	page, err := renderHTML(dir, r)
	if err != nil {
		return fmt.Errorf("reports: index.html: %w", err)
	}
	return writeAtomic(filepath.Join(dir, "index.html"), page)
}

// Load reads a results.json.
func Load(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", path, err)
	}
	if r.Schema != SchemaV1 {
		return nil, fmt.Errorf("reports: %s: schema %q, want %q", path, r.Schema, SchemaV1)
	}
	return &r, nil
}

func writeAtomic(path string, data []byte) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}
