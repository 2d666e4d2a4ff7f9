//go:build containers

package harness

import "testing"

// BenchmarkStandBootContainers boots the default stand on all three
// backends in one run: embedded, process and containers (the images
// `make containers-images` builds), and reports each boot time and the
// containers/embedded and containers/process ratios. It needs a Docker
// engine, hence the build tag: `make bench-containers` runs it.
func BenchmarkStandBootContainers(b *testing.B) {
	boot := newBooter(b)
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
