package harness

import (
	"maps"
	"math"
	"slices"
	"testing"
)

// What the soak (soak_test.go, make soak) judges a run by.

// maxSlopeMBPerMin is the memory growth a component of the project may
// show over a soak: more is a leak.
const maxSlopeMBPerMin = 1.0

// soakSample is one minute's reading of every process of the stand.
type soakSample struct {
	Minute     float64            `json:"minute"`
	RSSMiB     map[string]float64 `json:"rss_mib"`
	Goroutines map[string]float64 `json:"goroutines"`
}

type soakProcess struct {
	Name string `json:"name"`
	// Checked marks the stand's components run as binaries of the
	// project, whose slope the soak judges.
	// The stand's own process holds kfake (every record in memory) and
	// the taps (every sighting), and influxd its cache and index: they
	// grow with the data by design, and are reported only.
	Checked          bool    `json:"checked"`
	FirstMiB         float64 `json:"first_mib"`
	LastMiB          float64 `json:"last_mib"`
	SlopeMBPerMin    float64 `json:"slope_mb_per_min"`
	FirstGoroutines  float64 `json:"first_goroutines"`
	LastGoroutines   float64 `json:"last_goroutines"`
	GoroutinesPerMin float64 `json:"goroutines_per_min"`
}

// soakSlopes fits each process's RSS and goroutines over the minutes
// after the first reading (start-up allocations are not growth).
func soakSlopes(samples []soakSample, judged map[string]bool) []soakProcess {
	names := map[string]bool{}
	for _, s := range samples {
		for n := range s.RSSMiB {
			names[n] = true
		}
		for n := range s.Goroutines {
			names[n] = true
		}
	}
	var out []soakProcess
	for _, n := range slices.Sorted(maps.Keys(names)) {
		p := soakProcess{Name: n, Checked: judged[n]}
		var xs, rss, gs, gx []float64
		for i, s := range samples {
			if i == 0 {
				continue
			}
			if v, ok := s.RSSMiB[n]; ok {
				xs, rss = append(xs, s.Minute), append(rss, v)
			}
			if v, ok := s.Goroutines[n]; ok {
				gx, gs = append(gx, s.Minute), append(gs, v)
			}
		}
		if len(rss) > 0 {
			p.FirstMiB, p.LastMiB = rss[0], rss[len(rss)-1]
			p.SlopeMBPerMin = slope(xs, rss) * (1 << 20) / 1e6
		}
		if len(gs) > 0 {
			p.FirstGoroutines, p.LastGoroutines = gs[0], gs[len(gs)-1]
			p.GoroutinesPerMin = slope(gx, gs)
		}
		out = append(out, p)
	}
	return out
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// TestSoakSlopes: a binary whose memory grows 2 MB a minute is over the
// soak's bound and one that holds steady is not; the first reading
// (start-up) is left out of the fit.
func TestSoakSlopes(t *testing.T) {
	var samples []soakSample
	for m := 0; m <= 10; m++ {
		samples = append(samples, soakSample{Minute: float64(m),
			RSSMiB:     map[string]float64{"leaky": 20 + 2*float64(m)*1e6/(1<<20), "steady": 25 + float64(m%2)*0.1, "startup": map[bool]float64{true: 5, false: 30}[m == 0]},
			Goroutines: map[string]float64{"leaky": 10 + float64(m)}})
	}
	got := map[string]soakProcess{}
	for _, p := range soakSlopes(samples, map[string]bool{"leaky": true, "steady": true}) {
		got[p.Name] = p
	}
	for name, want := range map[string]float64{"leaky": 2, "steady": 0, "startup": 0} {
		if math.Abs(got[name].SlopeMBPerMin-want) > 0.05 {
			t.Errorf("%s: slope %.3f MB/min, want %.0f", name, got[name].SlopeMBPerMin, want)
		}
	}
	if got["leaky"].SlopeMBPerMin <= maxSlopeMBPerMin || got["steady"].SlopeMBPerMin > maxSlopeMBPerMin {
		t.Errorf("the bound judges leaky %.2f and steady %.2f MB/min wrongly", got["leaky"].SlopeMBPerMin, got["steady"].SlopeMBPerMin)
	}
	if !got["leaky"].Checked || got["startup"].Checked || got["leaky"].GoroutinesPerMin != 1 {
		t.Errorf("leaky: judged %v, goroutines %.1f/min", got["leaky"].Checked, got["leaky"].GoroutinesPerMin)
	}
}
