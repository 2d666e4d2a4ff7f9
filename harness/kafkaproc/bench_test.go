package kafkaproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/internal/proc"
)

// Side-by-side benchmarks against the systems production runs, in one
// run so that their ratios compare like with like: each pair reads the
// same records from the same real Kafka cluster, as a process of its own.

// startClusters starts n one-node clusters at once.
func startClusters(b testing.TB, ctx context.Context, n int) []*Cluster {
	lib, err := FindLib("../..")
	if err != nil {
		b.Fatal(err)
	}
	cs := make([]*Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() { cs[i], errs[i] = Start(ctx, Config{Lib: lib}) })
	}
	wg.Wait()
	for i, c := range cs {
		if c != nil {
			b.Cleanup(func() { c.Stop() })
		}
		if errs[i] != nil {
			b.Fatal(errs[i])
		}
	}
	return cs
}

// buildCmd builds one of the project's commands into a temporary dir.
func buildCmd(b *testing.B, name string) string {
	out := filepath.Join(b.TempDir(), name)
	if msg, err := exec.Command("go", "build", "-o", out, "../../cmd/"+name).CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", name, err, msg)
	}
	return out
}

// endOffsets sums a topic's end offsets at a cluster (0 while it does not
// exist).
func endOffsets(ctx context.Context, seeds []string, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return 0
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// run measures one contender: from its start until done says all is
// there, polling every 100 ms; its peak RSS and CPU time are read just
// before it is stopped.
type contender struct {
	elapsed time.Duration
	rss     int64
	cpu     time.Duration
}

func measure(b *testing.B, ctx context.Context, name string, cmd *exec.Cmd, done func() bool) contender {
	start := time.Now()
	p, err := proc.Start(name, cmd)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop(20 * time.Second)
	for !done() {
		if err := p.Alive(); err != nil {
			b.Fatal(err)
		}
		if ctx.Err() != nil {
			b.Fatalf("%s: not done in time\n%s", name, p.Tail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return contender{elapsed: time.Since(start), rss: p.PeakRSS(), cpu: p.CPUTime()}
}

// BenchmarkReplicatorVsMirrorMaker2 copies the same records (250 bytes,
// 4 partitions) from one source cluster with the mirror binary and with
// MirrorMaker 2, each fed the same properties but for its own target
// cluster. Reported: records/s from process start until the last record
// is at the target (so MM2's JVM and Connect start-up count, as they do
// at every restart of a pod), peak RSS, and ours/MM2 ratios.
func BenchmarkReplicatorVsMirrorMaker2(b *testing.B) {
	const records = 200_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cs := startClusters(b, ctx, 3) // source, ours, MM2's
	mirror := buildCmd(b, "mirror")
	cl, err := kgo.NewClient(kgo.SeedBrokers(cs[0].Seeds()...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	const topic = "lsst.sal.MTM1M3.forceActuatorData"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 4, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	value := []byte(strings.Repeat("x", 250))
	var wg sync.WaitGroup
	var perr error
	var mu sync.Mutex
	for range records {
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if perr != nil {
		b.Fatal(perr)
	}
	props := func(target *Cluster) string {
		return fmt.Sprintf("clusters = summit, usdf\nsummit.bootstrap.servers = %s\nusdf.bootstrap.servers = %s\n", cs[0].Seeds()[0], target.Seeds()[0]) +
			`summit->usdf.enabled = true
summit->usdf.topics = lsst\\.sal\\..*
replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
refresh.topics.interval.seconds = 1
sync.topic.acls.enabled = false
`
	}
	dir := b.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		return p
	}
	oursConf, theirsConf := write("ours.properties", props(cs[1])), write("mm2.properties", props(cs[2]))
	lib, _ := FindLib("../..")
	cfg := Config{Lib: lib}
	cfg.defaults()
	remote := "summit." + topic
	for b.Loop() {
		ours := measure(b, ctx, "mirror", exec.Command(mirror, "--config", oursConf), func() bool { return endOffsets(ctx, cs[1].Seeds(), remote) >= records })
		theirs := measure(b, ctx, "mirrormaker2", javaCmd(cfg, "org.apache.kafka.connect.mirror.MirrorMaker", theirsConf), func() bool { return endOffsets(ctx, cs[2].Seeds(), remote) >= records })
		b.ReportMetric(records/ours.elapsed.Seconds(), "ours-records/s")
		b.ReportMetric(records/theirs.elapsed.Seconds(), "mm2-records/s")
		b.ReportMetric(float64(ours.rss)/(1<<20), "ours-peak-MiB")
		b.ReportMetric(float64(theirs.rss)/(1<<20), "mm2-peak-MiB")
		b.ReportMetric(theirs.elapsed.Seconds()/ours.elapsed.Seconds(), "speed-ours/mm2")
		b.ReportMetric(float64(ours.rss)/float64(theirs.rss), "rss-ours/mm2")
	}
}

// BenchmarkSinkVsTelegraf writes the same Avro records (MTM1M3
// forceActuatorData, 156 floats and more per point) from real Kafka into
// InfluxDB with the efdsink binary and with Telegraf, each into a database
// of its own. Reported: points/s from process start until every point is
// queryable, CPU time per 1000 points, and ours/Telegraf ratios.
func BenchmarkSinkVsTelegraf(b *testing.B) {
	const points = 20_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bed := newSinkBed(b, ctx)
	kc, influx, reg, tbin := bed.kafka, bed.influx, bed.reg, bed.telegraf
	sinkBin := buildCmd(b, "efdsink")
	tp := bed.ifaces.Topic("MTM1M3", "forceActuatorData")
	bed.produce(b, ctx, tp, points, func(i int) float64 { return 1_790_000_000.0 + float64(i)*0.001 })
	ic := &influxd.Client{URL: influx.URL()}
	count := func(db string) func() bool {
		return func() bool {
			series, err := ic.Query(ctx, db, fmt.Sprintf(`SELECT count("private_efdStamp") FROM %q`, tp.FullName()))
			if err != nil || len(series) == 0 || len(series[0].Values) == 0 || len(series[0].Values[0]) < 2 {
				return false
			}
			return fmt.Sprint(series[0].Values[0][1]) == fmt.Sprint(points)
		}
	}
	dir := b.TempDir()
	round := 0
	for b.Loop() {
		round++
		oursDB, theirsDB := fmt.Sprintf("bench_ours_%d", round), fmt.Sprintf("bench_telegraf_%d", round)
		for _, db := range []string{oursDB, theirsDB} {
			if err := ic.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", db)); err != nil {
				b.Fatal(err)
			}
		}
		conf := filepath.Join(dir, fmt.Sprintf("telegraf-%d.conf", round))
		text := telegraf.Config{Brokers: kc.Seeds(), RegistryURL: reg.URL(), InfluxURL: influx.URL(), Group: theirsDB,
			Inputs: []telegraf.Input{{Topics: []string{`lsst\.sal\..*`}, Database: theirsDB}}}.Text()
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		ours := measure(b, ctx, "efdsink", exec.Command(sinkBin, "--brokers", strings.Join(kc.Seeds(), ","), "--registry", reg.URL(),
			"--influxdb", influx.URL(), "--topics", `lsst\.sal\..*`, "--database", oursDB, "--group", oursDB), count(oursDB))
		theirs := measure(b, ctx, "telegraf", exec.Command(tbin, "--config", conf), count(theirsDB))
		b.ReportMetric(points/ours.elapsed.Seconds(), "ours-points/s")
		b.ReportMetric(points/theirs.elapsed.Seconds(), "telegraf-points/s")
		b.ReportMetric(ours.cpu.Seconds()*1000/points*1000, "ours-cpu-ms/1k-points")
		b.ReportMetric(theirs.cpu.Seconds()*1000/points*1000, "telegraf-cpu-ms/1k-points")
		b.ReportMetric(theirs.elapsed.Seconds()/ours.elapsed.Seconds(), "speed-ours/telegraf")
		b.ReportMetric(ours.cpu.Seconds()/theirs.cpu.Seconds(), "cpu-ours/telegraf")
	}
}
