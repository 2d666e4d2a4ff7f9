package harness

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/internal/exit"
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
	// Backend, when set, overrides the stands' backend (embedded,
	// process, containers or external).
	Backend string
	// Replicator, when "mirrormaker2", runs the stands' flows with real
	// MirrorMaker 2 (see LoadOptions).
	Replicator string
	// DDS, when set, overrides the stands' DDS transport (simulated or
	// cyclonedds).
	DDS string
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
	// It runs the features one stand at a time.
	KeepUp bool
	// Parallel is how many stands run at once: the feature files of a
	// stand are shared out among up to that many copies of it, each with
	// its own clusters, registries, DDS ports and databases. 0 or 1 runs
	// one stand at a time.
	Parallel int
}

func (cfg RunConfig) loadOptions() LoadOptions {
	return LoadOptions{InterfacesDir: cfg.InterfacesDir, Backend: cfg.Backend, Replicator: cfg.Replicator, DDS: cfg.DDS}
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
	st, err := Load(cfg.Stand, cfg.loadOptions())
	if err != nil {
		return nil, &BadInputError{Err: err}
	}
	features := cfg.Features
	if len(features) == 0 {
		features = []string{"features"}
	}
	groups, err := groupFeatures(st, features, cfg.loadOptions())
	if err != nil {
		return nil, &BadInputError{Err: err}
	}
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	shards := shardGroups(groups, cfg)
	res := r.results(st, shards)
	stopShared, err := r.startShared(ctx, shards)
	defer stopShared()
	if err != nil {
		return nil, err
	}
	outcomes := r.runShards(ctx, shards)
	for _, o := range outcomes {
		if o.env != nil {
			defer o.env.Down(context.WithoutCancel(ctx))
		}
	}
	kept, err := r.collect(res, st, shards, outcomes)
	if err != nil {
		return nil, err
	}
	if err := reports.Write(r.dir, res); err != nil {
		return nil, err
	}
	if kept != nil {
		fmt.Fprintf(r.out, "report: %s\nthe stand stays up until Ctrl-C:\n%s", filepath.Join(r.dir, "index.html"), kept.Endpoints())
		<-ctx.Done()
	}
	var boot time.Duration
	if len(outcomes) > 0 {
		boot = outcomes[0].boot
	}
	return &RunResult{Passed: res.Passed, ReportDir: r.dir, Results: res, BootTime: boot}, nil
}

// run is one Run: where its reports go, its output and logger, the
// influxd servers its stands share and its progress.
type run struct {
	cfg     RunConfig
	id, dir string
	started time.Time
	logger  *slog.Logger
	out     io.Writer
	shared  UpOptions
	prog    *Progress
	par     int // stands at once
}

func newRun(cfg RunConfig) (*run, error) {
	r := &run{cfg: cfg, started: time.Now().UTC(), logger: cfg.Logger, out: cfg.Output, par: max(cfg.Parallel, 1)}
	r.id = r.started.Format("20060102T150405Z")
	r.dir = cmp.Or(cfg.ReportDir, filepath.Join("out", r.id))
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("report dir: %w", err)
	}
	if r.logger == nil {
		lvl := slog.LevelWarn
		_ = lvl.UnmarshalText([]byte(os.Getenv("TESTSTAND_LOG")))
		r.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	}
	if r.out == nil {
		r.out = os.Stdout
	}
	if cfg.KeepUp {
		r.par = 1
	}
	return r, nil
}

// results are the run's results before any stand ran: its notes and
// the versions of what its stands run.
func (r *run) results(st *Stand, shards []featureGroup) *reports.Results {
	res := &reports.Results{
		Schema: reports.SchemaV1, Run: r.id, Stand: st.File, Backend: string(st.Backend),
		Started: r.started,
		Notes: []string{
			fmt.Sprintf("InfluxDB visibility is polled every %s, or ten times as long as a round of polling takes when that is longer: latencies to InfluxDB are late by up to that much.", observe.InfluxPoll),
			"One machine, one clock: all latencies use the local wall clock; private_sndStamp is TAI and converted with TAI-UTC = 37 s.",
		},
	}
	stands := []*Stand{st} // what runs: the shards' stands, if any
	for i, sh := range shards {
		if i == 0 {
			stands = stands[:0]
		}
		stands = append(stands, sh.stand)
	}
	res.Versions = versions(stands...)
	return res
}

// startShared starts one influxd of each major version the stands need
// for the whole run: every stand gets databases of its own in it, so
// later stands boot without starting one. stop stops them.
func (r *run) startShared(ctx context.Context, shards []featureGroup) (stop func(), err error) {
	var started []*influxd.Server
	stop = func() {
		for _, srv := range started {
			srv.Stop()
		}
	}
	for major := range needsInflux(shards) {
		srv, err := host.StartInflux(ctx, major, "")
		if err != nil {
			return stop, err
		}
		started = append(started, srv)
		if major == 2 {
			r.shared.Influx2 = srv
		} else {
			r.shared.Influx = srv
		}
	}
	return stop, nil
}

// outcome is what one shard's stand did.
type outcome struct {
	scenarios []reports.Scenario
	boot      time.Duration
	passed    bool
	env       *Env // the stand kept up (KeepUp), else nil
	err       error
	output    bytes.Buffer
}

// runShards runs the shards, up to r.par stands at once; with more than
// one at once each stand's output is printed whole when it is done.
func (r *run) runShards(ctx context.Context, shards []featureGroup) []*outcome {
	outcomes := make([]*outcome, len(shards))
	r.prog = &Progress{StandsTotal: len(shards), Scenarios: countScenarios(shards)}
	if r.par > 1 && isTerminal(os.Stderr) {
		pctx, stopProgress := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); r.prog.show(pctx, os.Stderr, 250*time.Millisecond) }()
		defer func() { stopProgress(); <-done }()
	}
	sem := make(chan struct{}, r.par)
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for i, sh := range shards {
		o := &outcome{}
		outcomes[i] = o
		keep := r.cfg.KeepUp && i == len(shards)-1
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			w := r.out
			if r.par > 1 {
				w = &o.output
			}
			r.runGroup(ctx, sh, w, keep, o)
			r.prog.StandsDone.Add(1)
			if r.par > 1 {
				outMu.Lock()
				fmt.Fprintf(r.out, "=== stand %s%s\n%s", sh.stand.File, sh.label, o.output.String())
				outMu.Unlock()
			}
		})
	}
	wg.Wait()
	return outcomes
}

// collect adds the shards' scenarios and notes to res and judges the
// run; kept is the stand left up, if any.
func (r *run) collect(res *reports.Results, st *Stand, shards []featureGroup, outcomes []*outcome) (kept *Env, _ error) {
	allPassed := true
	for i, sh := range shards {
		o := outcomes[i]
		if o.env != nil {
			kept = o.env
		}
		if o.err != nil {
			return nil, o.err
		}
		res.Notes = append(res.Notes, fmt.Sprintf("Stand %s%s: boot time %s, %d features.", sh.stand.File, sh.label, o.boot.Round(time.Millisecond), len(sh.paths)))
		if sh.first {
			for _, w := range sh.stand.Warnings() {
				res.Notes = append(res.Notes, "Warning: "+w)
			}
		}
		if len(shards) > 1 || sh.stand.File != st.File {
			for j := range o.scenarios {
				o.scenarios[j].Stand = sh.stand.File + sh.label
			}
		}
		res.Scenarios = append(res.Scenarios, o.scenarios...)
		allPassed = allPassed && o.passed
	}
	for _, sh := range shards {
		for tag, why := range leftOut(sh.stand) {
			if n := countTagged([]featureGroup{sh}, tag); n > 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("Stand %s%s: %d scenarios tagged %s left out: %s.", sh.stand.File, sh.label, n, tag, why))
			}
		}
	}
	if r.par > 1 {
		res.Notes = append(res.Notes, fmt.Sprintf("Up to %d stands ran at once, each with its own clusters, registries, DDS ports and databases in one influxd.", r.par))
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
	return kept, nil
}

// runGroup brings one shard's stand up, runs its features and tears it
// down, or, with keep, leaves it up in o.env.
func (r *run) runGroup(ctx context.Context, g featureGroup, out io.Writer, keep bool, o *outcome) {
	opts := r.shared
	opts.Logger = r.logger
	env, err := Up(ctx, g.stand, opts)
	if err != nil {
		o.err = fmt.Errorf("stand %s did not come up: %w", g.stand.File, err)
		return
	}
	r.prog.StandsUp.Add(1)
	defer r.prog.StandsUp.Add(-1)
	if keep {
		o.env = env
	} else {
		defer env.Down(context.WithoutCancel(ctx))
	}
	if r.cfg.Prepare != nil {
		if o.err = r.cfg.Prepare(env); o.err != nil {
			return
		}
	}
	steps := &Steps{Env: env, Progress: r.prog}
	suite := godog.TestSuite{
		Name:                "teststand",
		ScenarioInitializer: steps.Initialize,
		Options: &godog.Options{
			Format: "pretty,junit:" + filepath.Join(r.dir, "junit"+g.suffix+".xml") +
				",cucumber:" + filepath.Join(r.dir, "cucumber"+g.suffix+".json"),
			Paths:          g.paths,
			Tags:           standTags(r.cfg.Tags, g.stand),
			Strict:         true,
			Concurrency:    1,
			NoColors:       true,
			Output:         out,
			DefaultContext: ctx,
		},
	}
	status := suite.Run()
	if status != 0 {
		if d, err := env.WriteLogs(filepath.Join(r.dir, "logs"+g.suffix)); err == nil && d != "" {
			fmt.Fprintf(out, "logs of the stand's processes: %s\n", d)
		}
	}
	o.scenarios, o.boot, o.passed = steps.Collected, env.BootTime, status == 0
}

// BadInputError marks errors in what the user gave (exit code 2); it is
// the commands' one bad-input error.
type BadInputError = exit.BadInput

// versions names what the run's stands run: their backends' Kafka,
// registry and InfluxDB, and MirrorMaker 2 and Telegraf where a stand
// runs them, with the versions the binaries and jars report.
func versions(stands ...*Stand) map[string]string {
	out := map[string]string{}
	for _, st := range stands {
		b, err := newBackend(&Env{Stand: st}, UpOptions{})
		if err != nil {
			continue // Load has checked the backend
		}
		maps.Copy(out, b.Versions())
	}
	return out
}
