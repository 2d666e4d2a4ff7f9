package harness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/reports"
)

// RunConfig configures one run of a feature suite against a stand.
type RunConfig struct {
	// Stand is the stand file.
	Stand string
	// Features are feature files or directories; nil means "features".
	Features []string
	// Tags is a godog tag expression selecting scenarios.
	Tags string
	// ReportDir receives index.html, results.json, junit.xml and
	// cucumber.json; "" means out/<run id>.
	ReportDir string
	// InterfacesDir overrides the stand's interfaces.
	InterfacesDir string
	// Output receives godog's progress; nil means os.Stdout.
	Output io.Writer
	// Logger receives component logs; nil keeps warnings and errors only.
	Logger *slog.Logger
	// Prepare runs after the stand is up and before the first scenario
	// (tests use it to break a link).
	Prepare func(*Env) error
}

// RunResult is the outcome of Run.
type RunResult struct {
	Passed    bool
	ReportDir string
	Results   *reports.Results
	BootTime  time.Duration
}

// Run loads the stand (any error here is bad input, reported before
// anything starts), brings it up, runs the features, tears the stand down
// and writes the reports.
func Run(ctx context.Context, cfg RunConfig) (*RunResult, error) {
	st, err := Load(cfg.Stand, LoadOptions{InterfacesDir: cfg.InterfacesDir})
	if err != nil {
		return nil, &BadInputError{Err: err}
	}
	features := cfg.Features
	if len(features) == 0 {
		features = []string{"features"}
	}
	for _, f := range features {
		if _, err := os.Stat(f); err != nil {
			return nil, &BadInputError{Err: fmt.Errorf("features: %w", err)}
		}
	}
	started := time.Now().UTC()
	runID := started.Format("20060102T150405Z")
	dir := cfg.ReportDir
	if dir == "" {
		dir = filepath.Join("out", runID)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report dir: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		lvl := slog.LevelWarn
		_ = lvl.UnmarshalText([]byte(os.Getenv("TESTSTAND_LOG")))
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	}
	env, err := Up(ctx, st, UpOptions{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("stand %s did not come up: %w", st.File, err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	if cfg.Prepare != nil {
		if err := cfg.Prepare(env); err != nil {
			return nil, err
		}
	}
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	steps := &Steps{Env: env}
	suite := godog.TestSuite{
		Name:                "teststand",
		ScenarioInitializer: steps.Initialize,
		Options: &godog.Options{
			Format:         "pretty,junit:" + filepath.Join(dir, "junit.xml") + ",cucumber:" + filepath.Join(dir, "cucumber.json"),
			Paths:          features,
			Tags:           cfg.Tags,
			Strict:         true,
			Concurrency:    1,
			NoColors:       true,
			Output:         out,
			DefaultContext: ctx,
		},
	}
	status := suite.Run()
	finished := time.Now().UTC()
	res := &reports.Results{
		Schema: "teststand/results/v1", Run: runID, Stand: st.File, Backend: st.Backend,
		Versions: map[string]string{"kafka": "kfake (franz-go)", "influxd": influxd.Version, "registry": "teststand"},
		Started:  started, Finished: finished,
		Scenarios: steps.Collected,
		Notes: []string{
			fmt.Sprintf("Stand boot time %s.", env.BootTime.Round(time.Millisecond)),
			fmt.Sprintf("InfluxDB visibility is polled every %s: latencies to InfluxDB are late by up to that much.", InfluxPoll),
			"One machine, one clock: all latencies use the local wall clock; private_sndStamp is TAI and converted with TAI-UTC = 37 s.",
		},
	}
	sort.SliceStable(res.Scenarios, func(i, j int) bool { return res.Scenarios[i].Feature < res.Scenarios[j].Feature })
	res.Passed = status == 0 && len(res.Scenarios) > 0
	for _, sc := range res.Scenarios {
		if sc.Status != "passed" {
			res.Passed = false
		}
	}
	if len(res.Scenarios) == 0 {
		res.Notes = append(res.Notes, "No scenario ran: check the feature paths and tags.")
	}
	if err := reports.Write(dir, res); err != nil {
		return nil, err
	}
	return &RunResult{Passed: res.Passed, ReportDir: dir, Results: res, BootTime: env.BootTime}, nil
}

// BadInputError marks errors in what the user gave (exit code 2).
type BadInputError struct{ Err error }

func (e *BadInputError) Error() string { return e.Err.Error() }
func (e *BadInputError) Unwrap() error { return e.Err }

// Summary renders a short text summary of results.
func Summary(r *RunResult) string {
	var b strings.Builder
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s  stand %s, %d scenarios, boot %s\n", verdict, r.Results.Stand, len(r.Results.Scenarios), r.BootTime.Round(time.Millisecond))
	for _, sc := range r.Results.Scenarios {
		fmt.Fprintf(&b, "  %-8s %s\n", sc.Status, sc.Name)
		for _, t := range sc.Topics {
			line := fmt.Sprintf("           %s → %s: sent %d, delivered %d, lost %d, dup %d", t.Topic, t.Target, t.Sent, t.Delivered, t.Lost, t.Duplicated)
			for _, h := range t.Hops {
				if h.Name == "end-to-end" && h.Count > 0 {
					line += fmt.Sprintf(", e2e p50 %.1f ms p99 %.1f ms", h.P50, h.P99)
				}
			}
			b.WriteString(line + "\n")
		}
		if sc.Error != "" {
			fmt.Fprintf(&b, "           %s\n", sc.Error)
		}
	}
	fmt.Fprintf(&b, "report: %s\n", filepath.Join(r.ReportDir, "index.html"))
	return b.String()
}
