package mocksal

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/dds"
)

// BenchmarkNominalProfile writes the nominal summit profile over the
// shared ts_xml interfaces (every telemetry topic, M1M3 at 50 Hz) for one
// second per iteration, through the cross-process DDS link to a second bus
// whose readers drain every topic, as a salkafka process would. It reports
// samples/s and the CPU used by the whole process (writers, link and
// readers: an upper bound for mocksal alone) as % of one core.
func BenchmarkNominalProfile(b *testing.B) {
	ifaces := sharedInterfaces(b)
	p, err := LoadProfile("../scenarios/profiles/nominal-summit.yaml")
	if err != nil {
		b.Fatal(err)
	}
	planned, err := p.Resolve(ifaces)
	if err != nil {
		b.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	base := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx := context.Background()
	writerBus, readerBus := dds.NewBus(), dds.NewBus()
	defer writerBus.Close()
	defer readerBus.Close()
	lr, err := dds.Join(ctx, readerBus, dds.LinkConfig{Domain: 0, Interfaces: ifaces, BasePort: base})
	if err != nil {
		b.Fatal(err)
	}
	defer lr.Close()
	lw, err := dds.Join(ctx, writerBus, dds.LinkConfig{Domain: 0, Interfaces: ifaces, BasePort: base})
	if err != nil {
		b.Fatal(err)
	}
	defer lw.Close()
	for lr.Peers() < 1 {
		time.Sleep(time.Millisecond)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, pl := range planned {
		r, err := readerBus.Subscribe(dds.ReaderConfig{Topic: pl.Writer.Topic})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := r.Read(rctx); err != nil {
					return
				}
			}
		}()
	}
	var written int64
	var mu sync.Mutex
	cpu0 := cpuTime()
	start := time.Now()
	for b.Loop() {
		var ww sync.WaitGroup
		for i, pl := range planned {
			w := pl.Writer
			w.Duration, w.Seed = time.Second, uint64(i)
			ww.Add(1)
			go func() {
				defer ww.Done()
				n, err := Run(ctx, writerBus, w, nil)
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				written += int64(n)
				mu.Unlock()
			}()
		}
		ww.Wait()
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	cancel()
	wg.Wait()
	b.ReportMetric(float64(written)/wall.Seconds(), "samples/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
	b.ReportMetric(Rate(planned), "nominal-samples/s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
