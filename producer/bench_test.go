package producer_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
)

// BenchmarkSalkafka runs the salkafka binary as deployed, as a process of
// its own, against an in-process Kafka (kfake) and registry, and writes
// real ts_xml topics to it over the cross-process DDS bus: ATDome position
// (small) and MTM1M3 forceActuatorData (812 values), each at saturation
// (as fast as the producer takes them) and at the nominal summit rate. It
// reports samples/s, the producer process's own CPU (from /proc, so the
// writer and the broker do not count; 10 ms resolution) per sample and as
// % of one core, and the producer's latency from reading a sample
// (private_rcvStamp) to the broker's ack. The anchors to beat (TSTN-033,
// ts_salkafka, acks=1): 1,650–2,065 msg/s per topic, mean latency 2–3 ms.
func BenchmarkSalkafka(b *testing.B) {
	tsxml := os.Getenv("TS_XML_DIR")
	if tsxml == "" {
		tsxml, _ = filepath.Abs("../../shared/ts_xml/sal_interfaces")
	}
	ifaces, err := sal.LoadDir(tsxml)
	if err != nil {
		b.Fatalf("the real ts_xml interfaces are needed: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "salkafka")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/salkafka").CombinedOutput(); err != nil {
		b.Fatalf("build salkafka: %v\n%s", err, out)
	}
	cases := []struct {
		name       string
		csc, topic string
		rate       float64 // 0: saturation
		samples    int
	}{
		{"position/saturation", "ATDome", "position", 0, 20000},
		{"position/nominal-4Hz", "ATDome", "position", 4, 20},
		{"forceActuatorData/saturation", "MTM1M3", "forceActuatorData", 0, 5000},
		{"forceActuatorData/nominal-50Hz", "MTM1M3", "forceActuatorData", 50, 250},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r := runSalkafka(b, bin, tsxml, ifaces, ifaces.Topic(c.csc, c.topic), c.rate, c.samples)
				b.ReportMetric(r.samplesPerSec, "samples/s")
				b.ReportMetric(r.cpuPerSample.Seconds()*1e6, "cpu-µs/sample")
				b.ReportMetric(r.corePercent, "%core")
				b.ReportMetric(float64(r.p50.Microseconds())/1000, "ack-p50-ms")
				b.ReportMetric(float64(r.p99.Microseconds())/1000, "ack-p99-ms")
			}
		})
	}
}

type benchResult struct {
	samplesPerSec float64
	cpuPerSample  time.Duration
	corePercent   float64
	p50, p99      time.Duration
}

func runSalkafka(b *testing.B, bin, tsxml string, ifaces *sal.Interfaces, t *sal.Topic, rate float64, samples int) benchResult {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	ctx := context.Background()
	reg, err := registry.Start(ctx, registry.Config{Brokers: cluster.ListenAddrs()})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	base := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ready := filepath.Join(b.TempDir(), "ready")
	cmd := exec.Command(bin, "--broker", cluster.ListenAddrs()[0], "--registry", reg.URL(), "--replication-factor", "1",
		"--ts-xml", tsxml, "--dds-base-port", strconv.Itoa(base), "--ready-file", ready, "--loglevel", "20", t.CSC)
	stderr, _ := cmd.StderrPipe()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			b.Fatal("salkafka not ready")
		}
	}
	bus := dds.NewBus()
	defer bus.Close()
	link, err := dds.Join(ctx, bus, dds.LinkConfig{Domain: 0, Interfaces: ifaces, BasePort: base})
	if err != nil {
		b.Fatal(err)
	}
	defer link.Close()
	for link.Peers() < 1 {
		time.Sleep(time.Millisecond)
	}
	cpu0 := procCPU(b, cmd.Process.Pid)
	start := time.Now()
	if _, err := mocksal.Run(ctx, bus, mocksal.WriterConfig{Topic: t, RateHz: rate, Count: samples, Seed: 1}, nil); err != nil {
		b.Fatal(err)
	}
	// Wait until the producer has acknowledged everything.
	adm := kadm.NewClient(mustKafka(b, cluster))
	for deadline := time.Now().Add(60 * time.Second); endOffset(b, adm, t.KafkaTopic("")) < int64(samples); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d records produced", endOffset(b, adm, t.KafkaTopic("")), samples)
		}
	}
	wall := time.Since(start)
	cpu := procCPU(b, cmd.Process.Pid) - cpu0
	cmd.Process.Signal(syscall.SIGTERM)
	var final string
	for line := range lines {
		if strings.Contains(line, "producer: stopped") {
			final = line
		}
	}
	cmd.Wait()
	return benchResult{
		samplesPerSec: float64(samples) / wall.Seconds(),
		cpuPerSample:  cpu / time.Duration(samples),
		corePercent:   100 * cpu.Seconds() / wall.Seconds(),
		p50:           field(b, final, "latency_p50_us"),
		p99:           field(b, final, "latency_p99_us"),
	}
}

// endOffset counts the records in a one-partition topic.
func endOffset(b *testing.B, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		b.Fatal(err)
	}
	o, _ := ends.Lookup(topic, 0)
	return o.Offset
}

func mustKafka(b *testing.B, c *kfake.Cluster) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// procCPU is a process's user+system CPU time from /proc.
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func field(b *testing.B, line, name string) time.Duration {
	m := regexp.MustCompile(name + `=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		b.Fatalf("no %s in the final status line %q", name, line)
	}
	us, _ := strconv.ParseInt(m[1], 10, 64)
	return time.Duration(us) * time.Microsecond
}
