//go:build cyclonedds

package cyclonedds

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/ddstest"
	"github.com/lsst-ts/teststand/internal/proc"
)

// BenchmarkTransport streams one topic from a mocksal process to a reader
// in this process, through the simulated bus and through real DDS, and
// reports the samples/s the reader took while the stream ran, the CPU both
// processes spent per sample over that time, and the samples lost (real
// DDS keeps the last 100 per reader, as SAL's QoS says; the simulated bus
// blocks its writer instead).
func BenchmarkTransport(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "mocksal")
	build := exec.Command("go", "build", "-tags", "cyclonedds", "-o", bin, "./cmd/mocksal")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build mocksal: %v\n%s", err, out)
	}
	ifaces := interfaces(b)
	for _, tc := range []struct {
		csc, topic string
		n          int
	}{{"ATDome", "position", 20000}, {"MTM1M3", "forceActuatorData", 5000}} {
		for _, transport := range []string{dds.Simulated, dds.CycloneDDS} {
			b.Run(fmt.Sprintf("%s.%s/%s", tc.csc, tc.topic, transport), func(b *testing.B) {
				topic := ifaces.Topic(tc.csc, tc.topic)
				for range b.N {
					base := ddstest.BasePort(b, 0)
					bus := dds.NewBus()
					d, err := dds.Connect(context.Background(), transport, bus, dds.LinkConfig{Domain: 0, Interfaces: ifaces, BasePort: base})
					if err != nil {
						b.Fatal(err)
					}
					r, err := bus.Subscribe(dds.ReaderConfig{Domain: 0, Topic: topic})
					if err != nil {
						b.Fatal(err)
					}
					cmd := exec.Command(bin, "--dds", transport, "--dds-base-port", strconv.Itoa(base), "--domain", "0",
						"--csc", tc.csc, "--topic", tc.topic, "--count", strconv.Itoa(tc.n), "--rate", "1000000", "--wait-peers", "1", "--ts-xml=")
					var stderr strings.Builder
					cmd.Stderr = &stderr
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
					var first, last time.Time
					var selfFirst, childFirst time.Duration
					got := 0
					for got < tc.n {
						rctx, rcancel := context.WithTimeout(ctx, 5*time.Second) // the stream has ended, short of n
						_, _, err := r.Read(rctx)
						rcancel()
						if err != nil {
							break
						}
						got++
						last = time.Now()
						if got == 1 {
							first, selfFirst, childFirst = last, selfCPU(), proc.CPUTimeOf(cmd.Process.Pid)
						}
					}
					cancel()
					selfLast := selfCPU()
					if err := cmd.Wait(); err != nil {
						b.Fatalf("mocksal: %v\n%s", err, stderr.String())
					}
					child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() - childFirst
					if got < 2 {
						b.Fatalf("read %d samples\n%s", got, stderr.String())
					}
					span := last.Sub(first).Seconds()
					b.ReportMetric(float64(got-1)/span, "samples/s")
					b.ReportMetric(float64((selfLast-selfFirst+child).Microseconds())/float64(got-1), "CPU-µs/sample")
					b.ReportMetric(float64(tc.n-got), "lost")
					r.Close()
					d.Close()
					bus.Close()
				}
			})
		}
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
