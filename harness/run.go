package harness

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/host"
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
	return LoadOptions{InterfacesDir: cfg.InterfacesDir, Backend: cfg.Backend, Replicator: cfg.Replicator}
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
		Schema: reports.SchemaV1, Run: runID, Stand: st.File, Backend: string(st.Backend),
		Started: started,
		Notes: []string{
			fmt.Sprintf("InfluxDB visibility is polled every %s: latencies to InfluxDB are late by up to that much.", observe.InfluxPoll),
			"One machine, one clock: all latencies use the local wall clock; private_sndStamp is TAI and converted with TAI-UTC = 37 s.",
		},
	}
	shards := shardGroups(groups, cfg)
	stands := []*Stand{st} // what runs: the shards' stands, if any
	for i, sh := range shards {
		if i == 0 {
			stands = stands[:0]
		}
		stands = append(stands, sh.stand)
	}
	res.Versions = versions(stands...)
	// One influxd of each major version the stands need for the whole
	// run: every stand gets databases of its own in it, so later stands
	// boot without starting one.
	var shared UpOptions
	for major := range needsInflux(shards) {
		srv, err := host.StartInflux(ctx, major, "")
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		if major == 2 {
			shared.Influx2 = srv
		} else {
			shared.Influx = srv
		}
	}
	type outcome struct {
		scenarios []reports.Scenario
		boot      time.Duration
		passed    bool
		env       *Env
		err       error
		output    bytes.Buffer
	}
	outcomes := make([]*outcome, len(shards))
	par := max(cfg.Parallel, 1)
	if cfg.KeepUp {
		par = 1
	}
	prog := &Progress{StandsTotal: len(shards), Scenarios: countScenarios(shards)}
	if par > 1 && isTerminal(os.Stderr) {
		pctx, stopProgress := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); prog.show(pctx, os.Stderr, 250*time.Millisecond) }()
		defer func() { stopProgress(); <-done }()
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for i, sh := range shards {
		o := &outcome{}
		outcomes[i] = o
		keep := cfg.KeepUp && i == len(shards)-1
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			w := io.Writer(out)
			if par > 1 {
				w = &o.output // printed whole when the stand is done
			}
			o.scenarios, o.boot, o.passed, o.env, o.err = runGroup(ctx, cfg, sh, logger, w, dir, sh.suffix, keep, shared, prog)
			prog.StandsDone.Add(1)
			if par > 1 {
				outMu.Lock()
				fmt.Fprintf(out, "=== stand %s%s\n%s", sh.stand.File, sh.label, o.output.String())
				outMu.Unlock()
			}
		})
	}
	wg.Wait()
	allPassed := true
	var boot time.Duration
	var kept *Env
	for i, sh := range shards {
		o := outcomes[i]
		if o.env != nil {
			defer o.env.Down(context.WithoutCancel(ctx))
			kept = o.env
		}
		if o.err != nil {
			return nil, o.err
		}
		if i == 0 {
			boot = o.boot
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
	if par > 1 {
		res.Notes = append(res.Notes, fmt.Sprintf("Up to %d stands ran at once, each with its own clusters, registries, DDS ports and databases in one influxd.", par))
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
	// suffix names the shard's junit and cucumber files; label names it
	// in reports; first marks the first shard of a stand file.
	suffix, label string
	first         bool
}

// shardGroups shares each group's feature files out among up to
// cfg.Parallel copies of its stand. Each copy is loaded again from its
// file, so that what a scenario changes in one (a hot-added CSC) stays
// in it.
func shardGroups(groups []featureGroup, cfg RunConfig) []featureGroup {
	var out []featureGroup
	for gi, g := range groups {
		base := ""
		if gi > 0 {
			base = "-" + strings.TrimSuffix(filepath.Base(g.stand.File), filepath.Ext(g.stand.File))
		}
		n := 1
		if cfg.Parallel > 1 && !cfg.KeepUp {
			n = min(cfg.Parallel, len(g.paths))
		}
		for k := range n {
			sh := featureGroup{stand: g.stand, suffix: base, first: k == 0}
			if n > 1 {
				sh.suffix += fmt.Sprintf("-%d", k+1)
				sh.label = fmt.Sprintf(" #%d", k+1)
			}
			if k > 0 {
				if st, err := Load(g.stand.File, cfg.loadOptions()); err == nil {
					sh.stand = st
				}
			}
			for i := k; i < len(g.paths); i += n {
				sh.paths = append(sh.paths, g.paths[i])
			}
			out = append(out, sh)
		}
	}
	return out
}

// needsInflux is the set of InfluxDB major versions the groups' stands
// start.
func needsInflux(groups []featureGroup) map[int]bool {
	out := map[int]bool{}
	for _, g := range groups {
		if !backend.Has[backend.SharedInflux](g.stand.Backend) {
			continue // the backend gives its sites InfluxDB of its own
		}
		for _, site := range g.stand.Sites {
			if site.InfluxDB != nil {
				out[site.InfluxDB.Major()] = true
			}
		}
	}
	return out
}

var standTag = regexp.MustCompile(`(?m)^\s*@[^\n]*@stand:(\S+)|^\s*@stand:(\S+)`)

// groupFeatures sorts feature files by the stand they ask for with a
// feature-level tag @stand:NAME (scenarios/NAME.yaml beside the main
// stand); untagged features run on the main stand. Every stand is loaded
// here, so a bad one is reported before anything starts.
func groupFeatures(main *Stand, paths []string, opts LoadOptions) ([]featureGroup, error) {
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
			st, err := Load(path, opts)
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
func runGroup(ctx context.Context, cfg RunConfig, g featureGroup, logger *slog.Logger, out io.Writer, dir, suffix string, keep bool, shared UpOptions, prog *Progress) (_ []reports.Scenario, _ time.Duration, _ bool, kept *Env, _ error) {
	opts := shared
	opts.Logger = logger
	env, err := Up(ctx, g.stand, opts)
	if err != nil {
		return nil, 0, false, nil, fmt.Errorf("stand %s did not come up: %w", g.stand.File, err)
	}
	prog.StandsUp.Add(1)
	defer prog.StandsUp.Add(-1)
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
	steps := &Steps{Env: env, Progress: prog}
	suite := godog.TestSuite{
		Name:                "teststand",
		ScenarioInitializer: steps.Initialize,
		Options: &godog.Options{
			Format: "pretty,junit:" + filepath.Join(dir, "junit"+suffix+".xml") +
				",cucumber:" + filepath.Join(dir, "cucumber"+suffix+".json"),
			Paths:          g.paths,
			Tags:           standTags(cfg.Tags, g.stand),
			Strict:         true,
			Concurrency:    1,
			NoColors:       true,
			Output:         out,
			DefaultContext: ctx,
		},
	}
	status := suite.Run()
	if status != 0 {
		if d, err := env.WriteLogs(filepath.Join(dir, "logs"+suffix)); err == nil && d != "" {
			fmt.Fprintf(out, "logs of the stand's processes: %s\n", d)
		}
	}
	if keep {
		return steps.Collected, env.BootTime, status == 0, env, nil
	}
	return steps.Collected, env.BootTime, status == 0, nil, nil
}

// EmbeddedOnlyTag marks scenarios that need the embedded backend's Kafka
// (kfake's fault hooks, such as refused offset commits): other backends
// leave them out, and the report says how many.
const EmbeddedOnlyTag = "@embedded"

// OwnReplicatorTag marks scenarios that hold for the project's replicator
// and not for MirrorMaker 2 (exactly-once copies across a SIGKILL): a run
// with --replicator mirrormaker2 leaves them out, and the report says how
// many.
const OwnReplicatorTag = "@own-replicator"

// ContainersOnlyTag marks scenarios that act on containers (pause, stop,
// restart a site's Kafka): other backends leave them out.
const ContainersOnlyTag = "@containers"

// leftOut are the tags a stand's run leaves out, with why.
func leftOut(st *Stand) map[string]string {
	out := map[string]string{}
	if !backend.Has[backend.CommitFaulter](st.Backend) {
		out[EmbeddedOnlyTag] = "they use the embedded Kafka's fault hooks, which the " + string(st.Backend) + " backend has not"
	}
	if len(st.MM2Flows()) > 0 {
		out[OwnReplicatorTag] = "they hold for the project's replicator, not for MirrorMaker 2, which the stand runs"
	}
	if !backend.Has[backend.ContainerActor](st.Backend) {
		out[ContainersOnlyTag] = "they pause, stop and restart containers, which only the containers backend runs"
	}
	return out
}

// standTags adds to the user's tag expression what the stand leaves out.
func standTags(tags string, st *Stand) string {
	for _, tag := range slices.Sorted(maps.Keys(leftOut(st))) {
		if tags == "" {
			tags = "~" + tag
		} else {
			tags += " && ~" + tag // godog: "&&" binds looser than ","
		}
	}
	return tags
}

// countTagged counts the scenarios tagged tag (directly or through their
// feature) in the shards' feature files; tag "" counts every scenario.
func countTagged(shards []featureGroup, tag string) int {
	n := 0
	for _, sh := range shards {
		for _, p := range sh.paths {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			featureTagged, pending := false, false
			for _, line := range strings.Split(string(data), "\n") {
				t := strings.TrimSpace(line)
				switch {
				case strings.HasPrefix(t, "@"):
					pending = pending || slices.Contains(strings.Fields(t), tag)
				case strings.HasPrefix(t, "Feature:"):
					featureTagged, pending = pending, false
				case strings.HasPrefix(t, "Scenario:") || strings.HasPrefix(t, "Scenario Outline:"):
					if tag == "" || featureTagged || pending {
						n++
					}
					pending = false
				}
			}
		}
	}
	return n
}

// BadInputError marks errors in what the user gave (exit code 2); it is
// the commands' one bad-input error.
type BadInputError = exit.BadInput

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
			line := fmt.Sprintf("           %s: sent %d, delivered %d, lost %d, dup %d", t.Label(), t.Sent, t.Delivered, t.Lost, t.Duplicated)
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

// countScenarios counts the scenario lines of the shards' feature files
// (scenario outlines count once), for the status line.
func countScenarios(shards []featureGroup) int { return countTagged(shards, "") }
