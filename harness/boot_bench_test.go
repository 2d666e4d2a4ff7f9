package harness

import (
	"context"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/influxd"
)

// BenchmarkStandBoot brings the default stand up and down on the embedded
// backend (kfake) and on the process backend (a real Kafka JVM per site),
// with one influxd for every round as `stand run` shares it, and reports
// the boot time of each and their ratio.
func BenchmarkStandBoot(b *testing.B) {
	boot := newBooter(b)
	for b.Loop() {
		embedded, process := boot("../scenarios/summit-usdf.yaml", "embedded"), boot("../scenarios/summit-usdf.yaml", "process")
		b.ReportMetric(embedded.Seconds(), "embedded-boot-s")
		b.ReportMetric(process.Seconds(), "process-boot-s")
		b.ReportMetric(process.Seconds()/embedded.Seconds(), "process/embedded")
	}
}

// newBooter starts the influxd the rounds share and returns a function
// that brings a stand file up on a backend ("" for the file's own) and
// down again, and returns its boot time.
func newBooter(b *testing.B) func(file, backend string) time.Duration {
	ctx, influx, _ := sharedInflux(b)
	return func(file, backend string) time.Duration {
		st, err := Load(file, LoadOptions{Backend: backend})
		if err != nil {
			b.Fatal(err)
		}
		env, err := Up(ctx, st, UpOptions{Influx: influx})
		if err != nil {
			b.Fatal(err)
		}
		defer env.Down(context.WithoutCancel(ctx))
		return env.BootTime
	}
}

// BenchmarkSiteIsolationBoot measures what keeping every site's InfluxDB
// its own world costs at boot, on a stand whose two sites both have an
// EFD: databases of their own in the run's shared influxd (what `stand
// run` does), against an influxd per site.
func BenchmarkSiteIsolationBoot(b *testing.B) {
	ctx, shared, bin := sharedInflux(b)
	st, err := Load("../scenarios/sites.yaml", LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	boot := func(opts UpOptions) time.Duration {
		env, err := Up(ctx, st, opts)
		if err != nil {
			b.Fatal(err)
		}
		defer env.Down(context.WithoutCancel(ctx))
		return env.BootTime
	}
	for b.Loop() {
		names, own := boot(UpOptions{Influx: shared}), boot(UpOptions{Influxd: bin})
		b.ReportMetric(names.Seconds(), "shared-influxd-boot-s")
		b.ReportMetric(own.Seconds(), "influxd-per-site-boot-s")
		b.ReportMetric(own.Seconds()/names.Seconds(), "per-site/shared")
	}
}

// sharedInflux starts the influxd a benchmark's rounds share, as `stand
// run` shares one, and returns the benchmark's context, the server and
// the binary.
func sharedInflux(b *testing.B) (context.Context, *influxd.Server, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	bin, err := influxd.Find(host.ModuleRoots()...)
	if err != nil {
		b.Fatal(err)
	}
	influx, err := influxd.Start(ctx, bin)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { influx.Stop() })
	return ctx, influx, bin
}
