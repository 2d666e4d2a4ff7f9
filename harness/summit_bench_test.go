//go:build summit

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	dto "github.com/prometheus/client_model/go"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/reports"
)

// BenchmarkSummit runs the whole summit's profile through the whole-summit
// stand (every CSC of ts_xml on the summit's producer, replication, the
// USDF's sink and EFD) at several scales of its rates and on several
// backends, and writes the cost curve to out/bench-summit (results.json,
// index.html). BENCH_SUMMIT_SCALES (default 0.25,0.5,1,2),
// BENCH_SUMMIT_BACKENDS (embedded,process) and BENCH_SUMMIT_SECONDS (30)
// choose the runs.
//
// Each run starts on an EFD that already holds every topic's measurement
// with its fields, as the deployed EFD does: one sample of every writer
// goes through the whole stack and into the EFD before the measured
// traffic starts. An empty EFD costs far more: influxd copies a
// measurement's whole field map for every field it adds (two thirds of
// its CPU while a topic's first point arrives), and the whole summit has
// tens of thousands of fields. That cost is measured too, in one 1× run per
// backend on an empty EFD (the "cold" rows; BENCH_SUMMIT_COLD=0 leaves
// them out).
func BenchmarkSummit(b *testing.B) {
	scales := envFloats(b, "BENCH_SUMMIT_SCALES", "0.25,0.5,1,2")
	backends := strings.Split(envOr("BENCH_SUMMIT_BACKENDS", "embedded,process"), ",")
	secs := envFloats(b, "BENCH_SUMMIT_SECONDS", "30")[0]
	out := envOr("BENCH_SUMMIT_OUT", "../out/bench-summit")
	cold := envOr("BENCH_SUMMIT_COLD", "1") != "0"
	ctx, influx, _ := sharedInflux(b)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 80*time.Minute)
	defer cancel()
	for b.Loop() {
		res := summitResults{Profile: "summit", Seconds: secs, Started: time.Now().UTC()}
		for _, be := range backends {
			for _, x := range scales {
				r := runSummit(ctx, b, influx, be, x, time.Duration(secs*float64(time.Second)), true)
				logRun(b, r)
				res.Runs = append(res.Runs, r)
				if x == 1 {
					b.ReportMetric(r.RealTime, be+"-1x-realtime")
				}
			}
			if cold {
				r := runSummit(ctx, b, influx, be, 1, time.Duration(secs*float64(time.Second)), false)
				logRun(b, r)
				res.Runs = append(res.Runs, r)
			}
		}
		if err := res.write(out); err != nil {
			b.Fatal(err)
		}
		b.Logf("wrote %s", filepath.Join(out, "index.html"))
	}
}

// summitResults is what results.json holds.
type summitResults struct {
	Profile string      `json:"profile"`
	Seconds float64     `json:"seconds"`
	Started time.Time   `json:"started"`
	Runs    []summitRun `json:"runs"`
	Note    string      `json:"note"`
}

// logRun logs a run's main figures.
func logRun(b *testing.B, r summitRun) {
	b.Logf("%s %g× (%s EFD): real-time %.2f×, %.0f samples/s, lost %d, e2e p50 %.0f p99 %.0f ms, sink's own latency %.0f ms, batch write %.0f ms, warm-up %.0f s",
		r.Backend, r.Scale, r.EFD, r.RealTime, r.SamplesPerSec, r.Lost, r.E2E["all"].P50, r.E2E["all"].P99, r.SinkLatencyMS, r.SinkWriteMS, r.WarmSeconds)
}

// summitRun is one backend at one scale.
type summitRun struct {
	Backend string  `json:"backend"`
	Scale   float64 `json:"scale"`
	// EFD is "warm" when every topic's measurement was in the EFD before
	// the measured traffic (WarmSeconds is what that took), "cold" when
	// the run started on an empty one.
	EFD         string  `json:"efd"`
	WarmSeconds float64 `json:"warm_s,omitempty"`
	Writers     int     `json:"writers"`
	// RealTime is the schedule's seconds over the seconds the stack took
	// for them: max(time to write them, time until the last sample was
	// in the EFD less the median end-to-end latency). ScheduleSeconds is
	// the span the profile asks for: from the writers' launch to the last
	// write's intended time.
	RealTime        float64 `json:"realtime_factor"`
	ScheduleSeconds float64 `json:"schedule_seconds"`
	WriteSeconds    float64 `json:"write_seconds"`
	DrainSeconds    float64 `json:"drain_seconds"`
	Sent            int     `json:"sent"`
	Delivered       int     `json:"delivered"`
	Lost            int     `json:"lost"`
	Duplicated      int     `json:"duplicated"`
	SamplesPerSec   float64 `json:"samples_per_s"`
	ValuesPerSec    float64 `json:"values_per_s"`
	// E2E are end-to-end latencies (private_sndStamp → visible in the
	// EFD) by CSC group, and "all".
	E2E map[string]latency `json:"e2e_ms"`
	// Hops are each hop's latency from private_sndStamp over every
	// topic ("hop →kafka@usdf": until the USDF's replica had it).
	Hops       map[string]latency `json:"hops_ms"`
	Components []usage            `json:"components"`
	// VsOne are this run's figures over its backend's 1× run's.
	VsOne   *ratios `json:"vs_1x,omitempty"`
	BootSec float64 `json:"boot_s"`
	// SinkLatencyMS is the sink's own mean latency, a record's Kafka
	// timestamp to InfluxDB's acknowledgement (efdsink_record_latency_seconds),
	// and SinkWriteMS its mean batch write: what the EFD path costs
	// without the harness's observation of it.
	SinkLatencyMS float64 `json:"sink_latency_mean_ms"`
	SinkWriteMS   float64 `json:"sink_batch_write_mean_ms"`
	Error         string  `json:"error,omitempty"`
}

type ratios struct {
	Samples float64 `json:"samples_per_s"`
	CPU     float64 `json:"cpu_s"`
	P99     float64 `json:"e2e_p99"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	N   int64   `json:"n"`
}

// usage is one process's cost during a run.
type usage struct {
	Name       string  `json:"name"`
	CPUSeconds float64 `json:"cpu_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// cscGroup is the group a CSC's latencies are reported in.
func cscGroup(csc string) string {
	switch {
	case strings.HasSuffix(csc, "Camera") || strings.HasSuffix(csc, "HeaderService") || strings.HasSuffix(csc, "OODS"):
		return "camera"
	case csc == "MTM1M3" || csc == "MTM1M3TS" || csc == "MTM2" || csc == "MTMount" || csc == "MTRotator" || csc == "MTHexapod" || csc == "MTVMS":
		return "main telescope (fast)"
	case strings.HasPrefix(csc, "AT"):
		return "auxiliary telescope"
	case csc == "ESS" || csc == "HVAC" || csc == "EAS" || csc == "DIMM" || csc == "DSM" || csc == "WeatherForecast":
		return "environment"
	}
	return "other"
}

func runSummit(ctx context.Context, b *testing.B, influx *influxd.Server, be string, scale float64, dur time.Duration, warm bool) (r summitRun) {
	influxPid := influx.PID()
	r = summitRun{Backend: be, Scale: scale, EFD: "cold"}
	fail := func(err error) summitRun {
		r.Error = err.Error()
		b.Logf("%s %g×: %v", be, scale, err)
		return r
	}
	st, err := Load("../scenarios/whole-summit.yaml", LoadOptions{Backend: be})
	if err != nil {
		b.Fatal(err)
	}
	prof, err := mocksal.LoadProfile(st.ProfilePath("summit"))
	if err != nil {
		b.Fatal(err)
	}
	env, err := Up(ctx, st, UpOptions{Influx: influx})
	if err != nil {
		return fail(err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	r.BootSec = env.BootTime.Seconds()
	specs, err := env.ProfileSpecs(prof, dur, 0, scale)
	if err != nil {
		b.Fatal(err)
	}
	r.Writers = len(specs)
	if warm {
		r.EFD = "warm"
		started := time.Now()
		if err := warmUp(ctx, env, specs); err != nil {
			return fail(fmt.Errorf("warming the EFD: %w", err))
		}
		r.WarmSeconds = time.Since(started).Seconds()
	}
	before := processUsage(influxPid)
	sc := env.NewScenario(ctx)
	defer sc.Close()
	trs, err := sc.PublishAllAsync(specs)
	if err != nil {
		return fail(err)
	}
	// The writers were launched now, once every tap was in place: the
	// harness's setup is not the stack's time.
	start := time.Now()
	for _, tr := range trs {
		if err := tr.Wait(ctx); err != nil {
			return fail(err)
		}
	}
	r.WriteSeconds = time.Since(start).Seconds()
	// The schedule's own span: from the launch to the last write's
	// intended time (the profile's seconds, less a last interval, plus
	// the writers' phases).
	for _, tr := range trs {
		if n := tr.Len(); n > 0 {
			r.ScheduleSeconds = max(r.ScheduleSeconds, tr.At(n-1).Intended.Sub(start).Seconds())
		}
	}
	where := observe.Influx("usdf", "efd")
	deadline := start.Add(dur + 5*time.Minute)
	for _, tr := range trs {
		if err := sc.WaitSeen(ctx, tr, where, max(time.Until(deadline), 0)); err != nil {
			return fail(err)
		}
	}
	drained := time.Since(start)
	after := processUsage(influxPid)
	if fams, err := env.Metrics(ctx, "usdf-efd"); err == nil {
		r.SinkLatencyMS = histMean(fams, "efdsink_record_latency_seconds") * 1000
		r.SinkWriteMS = histMean(fams, "efdsink_batch_write_seconds") * 1000
	}
	hist, hops := map[string]*hdrhistogram.Histogram{}, map[string]*hdrhistogram.Histogram{}
	values := 0
	for _, tr := range trs {
		res, err := sc.WaitDelivered(ctx, tr, where, max(time.Until(deadline), 0))
		if err != nil {
			return fail(err)
		}
		r.Sent += res.Sent
		r.Delivered += res.Delivered
		r.Lost += res.Lost
		r.Duplicated += res.Duplicated
		values += res.Delivered * tr.Topic.Count()
		for _, h := range res.Hops {
			if h.Name != "end-to-end" {
				// Each hop's latency over every topic: where the time goes.
				g := "hop " + h.Name
				if hops[g] == nil {
					hops[g] = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
				}
				for _, p := range h.Series {
					hops[g].RecordValue(max(int64(p.LatencyMS*1000), 1))
				}
				continue
			}
			for _, g := range []string{"all", cscGroup(tr.Topic.CSC)} {
				if hist[g] == nil {
					hist[g] = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
				}
				for _, p := range h.Series {
					hist[g].RecordValue(int64(p.LatencyMS * 1000))
				}
			}
		}
	}
	r.E2E, r.Hops = map[string]latency{}, map[string]latency{}
	for g, h := range hops {
		r.Hops[g] = latency{P50: float64(h.ValueAtQuantile(50)) / 1000, P99: float64(h.ValueAtQuantile(99)) / 1000, N: h.TotalCount()}
	}
	for g, h := range hist {
		r.E2E[g] = latency{P50: float64(h.ValueAtQuantile(50)) / 1000, P99: float64(h.ValueAtQuantile(99)) / 1000, N: h.TotalCount()}
	}
	r.DrainSeconds = drained.Seconds() - r.E2E["all"].P50/1000
	r.RealTime = r.ScheduleSeconds / max(r.WriteSeconds, r.DrainSeconds)
	r.SamplesPerSec = float64(r.Delivered) / max(r.WriteSeconds, r.DrainSeconds)
	r.ValuesPerSec = float64(values) / max(r.WriteSeconds, r.DrainSeconds)
	for _, name := range slices.Sorted(maps.Keys(after)) {
		a, bf := after[name], before[name]
		r.Components = append(r.Components, usage{Name: name, CPUSeconds: a.cpu - bf.cpu, PeakRSSMiB: float64(a.rss) / (1 << 20)})
	}
	return r
}

// warmUp writes one sample of each spec's topic and index, at the specs'
// phases, and waits until every one is in the USDF's EFD: the measurements
// and fields a deployed EFD already holds.
func warmUp(ctx context.Context, env *Env, specs []PublishSpec) error {
	one := make([]PublishSpec, len(specs))
	for i, sp := range specs {
		one[i] = PublishSpec{CSC: sp.CSC, Index: sp.Index, Topic: sp.Topic, RateHz: 10, Count: 1, Domain: sp.Domain, Phase: sp.Phase}
	}
	sc := env.NewScenario(ctx)
	defer sc.Close()
	trs, err := sc.PublishAllAsync(one)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	lost := 0
	for _, tr := range trs {
		res, err := sc.WaitDelivered(ctx, tr, observe.Influx("usdf", "efd"), max(time.Until(deadline), 0))
		if err != nil {
			return err
		}
		lost += res.Lost
	}
	if lost > 0 {
		return fmt.Errorf("%d of %d samples did not reach the EFD", lost, len(trs))
	}
	return nil
}

// histMean is a Prometheus histogram's mean over all its series.
func histMean(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	var n uint64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			n += m.GetHistogram().GetSampleCount()
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

type procUse struct {
	cpu float64 // seconds
	rss int64   // peak, bytes
}

// processUsage is the CPU time and peak resident set of this process
// ("stand": the harness, and what the embedded backend runs in it) and
// of every process it started, named by what they run (a broker, a
// producer, the sink, influxd), the shared influxd included.
func processUsage(influxPid int) map[string]procUse {
	out := map[string]procUse{}
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	out["stand"] = procUse{
		cpu: time.Duration(self.Utime.Nano() + self.Stime.Nano()).Seconds(),
		rss: proc.PeakRSSOf(os.Getpid()),
	}
	counts := map[string]int{}
	for _, pid := range descendants(os.Getpid()) {
		name := processName(pid)
		if pid == influxPid {
			name = "influxd"
		}
		if name == "" {
			continue
		}
		counts[name]++
		if counts[name] > 1 {
			name += " #" + strconv.Itoa(counts[name])
		}
		out[name] = procUse{cpu: proc.CPUTimeOf(pid).Seconds(), rss: proc.PeakRSSOf(pid)}
	}
	return out
}

func envFloats(b *testing.B, k, def string) []float64 {
	var out []float64
	for _, s := range strings.Split(envOr(k, def), ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || x <= 0 {
			b.Fatalf("%s: %q is not a positive number", k, s)
		}
		out = append(out, x)
	}
	return out
}

func (res *summitResults) write(dir string) error {
	for i := range res.Runs {
		r := &res.Runs[i]
		if one := res.One1x(r.Backend); one != nil && one.SamplesPerSec > 0 && totalCPU(*one) > 0 && one.E2E["all"].P99 > 0 {
			r.VsOne = &ratios{Samples: r.SamplesPerSec / one.SamplesPerSec, CPU: totalCPU(*r) / totalCPU(*one), P99: r.E2E["all"].P99 / one.E2E["all"].P99}
		}
	}
	res.Note = "realtime_factor = schedule seconds (from the writers' launch to the last write's intended time) / max(seconds to write them, seconds until the last sample was in the EFD less the median end-to-end latency); CPU and peak RSS per process over the traffic (the embedded backend's Kafka and replication run in the stand). A warm EFD already held every topic's measurement and fields (one sample of each writer, through the stack, before the measured traffic), as the deployed EFD does; a cold one started empty."
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return err
	}
	defer f.Close()
	return summitPage.Execute(f, res)
}

// One1x is the run of a backend at scale 1, the baseline of its ratios.
func (res *summitResults) One1x(be string) *summitRun {
	for i := range res.Runs {
		if res.Runs[i].Backend == be && res.Runs[i].Scale == 1 && res.Runs[i].EFD == "warm" {
			return &res.Runs[i]
		}
	}
	return nil
}

func totalCPU(r summitRun) float64 {
	t := 0.0
	for _, c := range r.Components {
		t += c.CPUSeconds
	}
	return t
}

var summitPage = template.Must(template.New("summit").Funcs(template.FuncMap{
	"cpu":      totalCPU,
	"groups":   func(r summitRun) []string { return slices.Sorted(maps.Keys(r.E2E)) },
	"get":      func(r summitRun, g string) latency { return r.E2E[g] },
	"hopNames": func(r summitRun) []string { return slices.Sorted(maps.Keys(r.Hops)) },
	"hop":      func(r summitRun, g string) latency { return r.Hops[g] },
	"style":    func() template.CSS { return template.CSS(reports.Style) },
}).Parse(`<!doctype html><html><head><meta charset="utf-8"><title>teststand: the whole summit, cost curve</title><style>{{style}}</style></head><body>
<h1>The whole summit: cost curve</h1>
<p>Profile <code>{{.Profile}}</code> for {{.Seconds}} s at each scale, through producer → summit Kafka → replication → USDF Kafka → sink → InfluxDB; started {{.Started.Format "2006-01-02 15:04 UTC"}}.</p>
<p>{{.Note}}</p>
<table><tr><th>backend</th><th>scale</th><th>EFD</th><th>writers</th><th>real-time ×</th><th>samples/s</th><th>values/s</th><th>sent</th><th>lost</th><th>dup</th><th>e2e p50 ms</th><th>e2e p99 ms</th><th>sink's own latency ms</th><th>CPU s (all)</th><th>vs 1×: samples/s, CPU, p99</th><th>error</th></tr>
{{range .Runs}}<tr><td>{{.Backend}}</td><td>{{.Scale}}</td><td>{{.EFD}}{{with .WarmSeconds}} ({{printf "%.0f" .}} s){{end}}</td><td>{{.Writers}}</td><td>{{printf "%.2f" .RealTime}}</td><td>{{printf "%.0f" .SamplesPerSec}}</td><td>{{printf "%.0f" .ValuesPerSec}}</td><td>{{.Sent}}</td><td>{{.Lost}}</td><td>{{.Duplicated}}</td><td>{{printf "%.0f" (get . "all").P50}}</td><td>{{printf "%.0f" (get . "all").P99}}</td><td>{{printf "%.0f" .SinkLatencyMS}}</td><td>{{printf "%.1f" (cpu .)}}</td><td>{{with .VsOne}}{{printf "%.2f" .Samples}}, {{printf "%.2f" .CPU}}, {{printf "%.2f" .P99}}{{end}}</td><td>{{.Error}}</td></tr>
{{end}}</table>
{{range .Runs}}<h2>{{.Backend}} at {{.Scale}}×, {{.EFD}} EFD</h2>
<table><tr><th>CSC group</th><th>e2e p50 ms</th><th>e2e p99 ms</th><th>samples</th></tr>
{{$r := .}}{{range groups .}}<tr><td>{{.}}</td><td>{{printf "%.0f" (get $r .).P50}}</td><td>{{printf "%.0f" (get $r .).P99}}</td><td>{{(get $r .).N}}</td></tr>{{end}}{{range hopNames .}}<tr><td>{{.}}</td><td>{{printf "%.0f" (hop $r .).P50}}</td><td>{{printf "%.0f" (hop $r .).P99}}</td><td>{{(hop $r .).N}}</td></tr>{{end}}</table>
<table><tr><th>process</th><th>CPU s</th><th>peak RSS MiB</th></tr>
{{range .Components}}<tr><td>{{.Name}}</td><td>{{printf "%.1f" .CPUSeconds}}</td><td>{{printf "%.0f" .PeakRSSMiB}}</td></tr>{{end}}</table>
{{end}}</body></html>
`))
