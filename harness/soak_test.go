//go:build soak

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/mocksal"
)

type soakResult struct {
	Stand     string        `json:"stand"`
	Profile   string        `json:"profile"`
	Scale     float64       `json:"scale"`
	Minutes   float64       `json:"minutes"`
	Writers   int           `json:"writers"`
	Sent      int           `json:"sent"`
	Delivered int           `json:"delivered"`
	Lost      int           `json:"lost"`
	Dup       int           `json:"duplicated"`
	Samples   []soakSample  `json:"samples"`
	Processes []soakProcess `json:"processes"`
	Failures  []string      `json:"failures"`
}

// TestSoak (make soak) runs the default stand for SOAK_DURATION (30m) at
// SOAK_SCALE (2) times the nominal profile's rates of its CSCs, reads
// every process's RSS and every component's goroutines each SOAK_EVERY
// (1m), and fails on any sample lost or a project binary whose memory
// grows faster than 1 MB/min (the least-squares slope after the first
// reading). Figures go to out/soak/ (results.json, summary.txt).
func TestSoak(t *testing.T) {
	dur := envDuration(t, "SOAK_DURATION", 30*time.Minute)
	every := envDuration(t, "SOAK_EVERY", time.Minute)
	scale, err := strconv.ParseFloat(envOr("SOAK_SCALE", "2"), 64)
	if err != nil {
		t.Fatalf("SOAK_SCALE: %v", err)
	}
	out := envOr("SOAK_OUT", "../out/soak")
	ctx, cancel := context.WithTimeout(context.Background(), dur+20*time.Minute)
	defer cancel()
	st, err := Load("../scenarios/summit-usdf.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := mocksal.LoadProfile(st.ProfilePath("nominal-summit"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Up(ctx, st, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	specs, err := env.ProfileSpecs(prof, dur, 0, scale)
	if err != nil {
		t.Fatal(err)
	}
	res := soakResult{Stand: st.File, Profile: "nominal-summit", Scale: scale, Minutes: dur.Minutes(), Writers: len(specs)}
	sc := env.NewScenario(ctx)
	defer sc.Close()
	trs, err := sc.PublishAllAsync(specs)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	read := func() {
		s := soakSample{Minute: time.Since(start).Minutes(), RSSMiB: map[string]float64{}, Goroutines: map[string]float64{}}
		s.RSSMiB["stand"] = float64(proc.RSSOf(os.Getpid())) / (1 << 20)
		s.Goroutines["stand"] = float64(runtime.NumGoroutine())
		// A binary component under its name; the other processes
		// (influxd, Kafka brokers) under theirs.
		named := map[int]bool{}
		for _, name := range env.ComponentNames() {
			c := env.component(name)
			if p, ok := c.proc.(interface{ Pid() int }); ok && c.proc != nil {
				s.RSSMiB[name] = float64(proc.RSSOf(p.Pid())) / (1 << 20)
				named[p.Pid()] = true
				if fams, err := env.Metrics(ctx, name); err == nil {
					s.Goroutines[name] = sumValues(fams, "go_goroutines", nil)
				}
			}
		}
		counts := map[string]int{}
		for _, pid := range descendants(os.Getpid()) {
			name := processName(pid)
			if named[pid] || name == "" || name == "go" {
				continue
			}
			if counts[name]++; counts[name] > 1 {
				name += " #" + strconv.Itoa(counts[name])
			}
			s.RSSMiB[name] = float64(proc.RSSOf(pid)) / (1 << 20)
		}
		res.Samples = append(res.Samples, s)
		t.Logf("minute %.1f: RSS MiB %v goroutines %v", s.Minute, s.RSSMiB, s.Goroutines)
	}
	read()
	tick := time.NewTicker(every)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, tr := range trs {
			tr.Wait(ctx)
		}
	}()
reading:
	for {
		select {
		case <-tick.C:
			read()
		case <-done:
			break reading
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	tick.Stop()
	read()
	where := observe.Influx("usdf", "efd")
	deadline := time.Now().Add(5 * time.Minute)
	for _, tr := range trs {
		v, err := sc.WaitDelivered(ctx, tr, where, max(time.Until(deadline), 0))
		if err != nil {
			t.Fatal(err)
		}
		res.Sent += v.Sent
		res.Delivered += v.Delivered
		res.Lost += v.Lost
		res.Dup += v.Duplicated
	}
	if res.Lost > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d of %d samples lost", res.Lost, res.Sent))
	}
	// The project's binaries are judged: the stand's components run as
	// processes of their own.
	judged := map[string]bool{}
	for _, name := range env.ComponentNames() {
		if c := env.component(name); c.proc != nil {
			judged[name] = true
		}
	}
	res.Processes = soakSlopes(res.Samples, judged)
	for _, p := range res.Processes {
		if p.Checked && p.SlopeMBPerMin > maxSlopeMBPerMin {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: memory grows %.2f MB/min (more than %.0f)", p.Name, p.SlopeMBPerMin, maxSlopeMBPerMin))
		}
	}
	if err := writeSoak(out, res); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failures {
		t.Error(f)
	}
}

func writeSoak(dir string, res soakResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %s, %s at %g×, %.0f min, %d writers: sent %d, delivered %d, lost %d, duplicated %d\n",
		res.Stand, res.Profile, res.Scale, res.Minutes, res.Writers, res.Sent, res.Delivered, res.Lost, res.Dup)
	fmt.Fprintf(&b, "%-16s %8s %10s %10s %14s %12s %12s\n", "process", "judged", "first MiB", "last MiB", "slope MB/min", "goroutines", "per min")
	for _, p := range res.Processes {
		fmt.Fprintf(&b, "%-16s %8t %10.1f %10.1f %14.3f %5.0f→%-6.0f %12.2f\n", p.Name, p.Checked, p.FirstMiB, p.LastMiB, p.SlopeMBPerMin, p.FirstGoroutines, p.LastGoroutines, p.GoroutinesPerMin)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(&b, "FAIL %s\n", f)
	}
	if len(res.Failures) == 0 {
		b.WriteString("PASS\n")
	}
	return os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(b.String()), 0o644)
}

func envDuration(t *testing.T, k string, def time.Duration) time.Duration {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	return d
}
