package harness

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
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
	// KeepUp leaves the last stand up after the features ran and the
	// report was written, prints its endpoints to Output, and tears it
	// down when ctx ends (Ctrl-C): to look at what a failure left behind.
	KeepUp bool
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
	groups, err := groupFeatures(st, features, cfg.InterfacesDir)
	if err != nil {
		return nil, &BadInputError{Err: err}
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
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	res := &reports.Results{
		Schema: "teststand/results/v1", Run: runID, Stand: st.File, Backend: st.Backend,
		Versions: map[string]string{"kafka": "kfake (franz-go)", "influxd": influxd.Version, "registry": "teststand"},
		Started:  started,
		Notes: []string{
			fmt.Sprintf("InfluxDB visibility is polled every %s: latencies to InfluxDB are late by up to that much.", InfluxPoll),
			"One machine, one clock: all latencies use the local wall clock; private_sndStamp is TAI and converted with TAI-UTC = 37 s.",
		},
	}
	allPassed := true
	var boot time.Duration
	var kept *Env
	for i, g := range groups {
		suffix := ""
		if i > 0 {
			suffix = "-" + strings.TrimSuffix(filepath.Base(g.stand.File), filepath.Ext(g.stand.File))
		}
		keep := cfg.KeepUp && i == len(groups)-1
		scenarios, bootTime, passed, env, err := runGroup(ctx, cfg, g, logger, out, dir, suffix, keep)
		if err != nil {
			return nil, err
		}
		if env != nil {
			defer env.Down(context.WithoutCancel(ctx))
			kept = env
		}
		if i == 0 {
			boot = bootTime
		}
		res.Notes = append(res.Notes, fmt.Sprintf("Stand %s: boot time %s, %d features.", g.stand.File, bootTime.Round(time.Millisecond), len(g.paths)))
		for _, w := range g.stand.Warnings() {
			res.Notes = append(res.Notes, "Warning: "+w)
		}
		if len(groups) > 1 || g.stand != st {
			for i := range scenarios {
				scenarios[i].Stand = g.stand.File
			}
		}
		res.Scenarios = append(res.Scenarios, scenarios...)
		allPassed = allPassed && passed
	}
	res.Finished = time.Now().UTC()
	sort.SliceStable(res.Scenarios, func(i, j int) bool { return res.Scenarios[i].Feature < res.Scenarios[j].Feature })
	res.Passed = allPassed && len(res.Scenarios) > 0
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
	if kept != nil {
		fmt.Fprintf(out, "report: %s\nthe stand stays up until Ctrl-C:\n%s", filepath.Join(dir, "index.html"), kept.Endpoints())
		<-ctx.Done()
	}
	return &RunResult{Passed: res.Passed, ReportDir: dir, Results: res, BootTime: boot}, nil
}

// featureGroup is the feature files that run on one stand.
type featureGroup struct {
	stand *Stand
	paths []string
}

var standTag = regexp.MustCompile(`(?m)^\s*@[^\n]*@stand:(\S+)|^\s*@stand:(\S+)`)

// groupFeatures sorts feature files by the stand they ask for with a
// feature-level tag @stand:NAME (scenarios/NAME.yaml beside the main
// stand); untagged features run on the main stand. Every stand is loaded
// here, so a bad one is reported before anything starts.
func groupFeatures(main *Stand, paths []string, interfacesDir string) ([]featureGroup, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".feature") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
	}
	groups := []featureGroup{{stand: main}}
	byStand := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		head := string(data)
		if i := strings.Index(head, "Feature:"); i >= 0 {
			head = head[:i]
		}
		m := standTag.FindStringSubmatch(head)
		if m == nil {
			groups[0].paths = append(groups[0].paths, f)
			continue
		}
		name := cmp.Or(m[1], m[2])
		path := name
		if !strings.ContainsRune(name, '/') {
			path = filepath.Join(filepath.Dir(main.File), name+".yaml")
		}
		i, ok := byStand[path]
		if !ok {
			st, err := Load(path, LoadOptions{InterfacesDir: interfacesDir})
			if err != nil {
				return nil, fmt.Errorf("%s asks for @stand:%s: %w", f, name, err)
			}
			i = len(groups)
			byStand[path] = i
			groups = append(groups, featureGroup{stand: st})
		}
		groups[i].paths = append(groups[i].paths, f)
	}
	if len(groups[0].paths) == 0 {
		groups = groups[1:]
	}
	return groups, nil
}

// runGroup brings one stand up, runs its features and tears it down, or,
// with keep, returns it up.
func runGroup(ctx context.Context, cfg RunConfig, g featureGroup, logger *slog.Logger, out io.Writer, dir, suffix string, keep bool) (_ []reports.Scenario, _ time.Duration, _ bool, kept *Env, _ error) {
	env, err := Up(ctx, g.stand, UpOptions{Logger: logger})
	if err != nil {
		return nil, 0, false, nil, fmt.Errorf("stand %s did not come up: %w", g.stand.File, err)
	}
	defer func() {
		if kept == nil {
			env.Down(context.WithoutCancel(ctx))
		}
	}()
	if cfg.Prepare != nil {
		if err := cfg.Prepare(env); err != nil {
			return nil, 0, false, nil, err
		}
	}
	steps := &Steps{Env: env}
	suite := godog.TestSuite{
		Name:                "teststand",
		ScenarioInitializer: steps.Initialize,
		Options: &godog.Options{
			Format: "pretty,junit:" + filepath.Join(dir, "junit"+suffix+".xml") +
				",cucumber:" + filepath.Join(dir, "cucumber"+suffix+".json"),
			Paths:          g.paths,
			Tags:           cfg.Tags,
			Strict:         true,
			Concurrency:    1,
			NoColors:       true,
			Output:         out,
			DefaultContext: ctx,
		},
	}
	status := suite.Run()
	if keep {
		return steps.Collected, env.BootTime, status == 0, env, nil
	}
	return steps.Collected, env.BootTime, status == 0, nil, nil
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
		if sc.Stand != "" {
			fmt.Fprintf(&b, "  %-8s %s  (stand %s)\n", sc.Status, sc.Name, sc.Stand)
		} else {
			fmt.Fprintf(&b, "  %-8s %s\n", sc.Status, sc.Name)
		}
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

// HoldConfig configures Hold.
type HoldConfig struct {
	Stand         string
	InterfacesDir string
	Output        io.Writer
	Logger        *slog.Logger
}

// Hold brings a stand up, prints its endpoints, and keeps it up until ctx
// ends (Ctrl-C), then tears it down: for engineers who point their own
// tools at a stand.
func Hold(ctx context.Context, cfg HoldConfig) error {
	st, err := Load(cfg.Stand, LoadOptions{InterfacesDir: cfg.InterfacesDir})
	if err != nil {
		return &BadInputError{Err: err}
	}
	env, err := Up(ctx, st, UpOptions{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("stand %s did not come up: %w", st.File, err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintf(out, "stand %s is up (boot %s); Ctrl-C tears it down\n%s", st.File, env.BootTime.Round(time.Millisecond), env.Endpoints())
	<-ctx.Done()
	return nil
}
