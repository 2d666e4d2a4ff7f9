//go:build containers

package harness

import (
	"context"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
)

// BenchmarkStandBootContainers boots the default stand on all three
// backends in one run: embedded, process and containers (the images
// `make containers-images` builds), and reports each boot time and the
// containers/embedded and containers/process ratios. It needs a Docker
// engine, hence the build tag: `make test-containers` runs it.
func BenchmarkStandBootContainers(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := influxd.Find(moduleRoots()...)
	if err != nil {
		b.Fatal(err)
	}
	influx, err := influxd.Start(ctx, bin)
	if err != nil {
		b.Fatal(err)
	}
	defer influx.Stop()
	boot := func(file, backend string) time.Duration {
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
	for b.Loop() {
		embedded := boot("../scenarios/summit-usdf.yaml", "embedded")
		process := boot("../scenarios/summit-usdf.yaml", "process")
		ctr := boot("../scenarios/containers.yaml", "")
		b.ReportMetric(embedded.Seconds(), "embedded-boot-s")
		b.ReportMetric(process.Seconds(), "process-boot-s")
		b.ReportMetric(ctr.Seconds(), "containers-boot-s")
		b.ReportMetric(ctr.Seconds()/embedded.Seconds(), "containers/embedded")
		b.ReportMetric(ctr.Seconds()/process.Seconds(), "containers/process")
	}
}
