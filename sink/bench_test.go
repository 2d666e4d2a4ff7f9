package sink

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

const eightFields = `{"type":"record","name":"eight","namespace":"lsst.sal.Bench","fields":[
 {"name":"private_efdStamp","type":"double"},
 {"name":"a","type":"double"},{"name":"b","type":"double"},{"name":"c","type":"double"},{"name":"d","type":"double"},
 {"name":"e","type":"double"},{"name":"f","type":"double"},{"name":"g","type":"double"},{"name":"h","type":"double"}]}`

// benchRig is a cluster and a registry for benchmarks.
type benchRig struct {
	cluster *kfake.Cluster
	reg     *registry.Server
	prod    *kgo.Client
	cl      *sr.Client
}

func newBenchRig(b *testing.B) *benchRig {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	reg, err := registry.Start(context.Background(), registry.Config{Brokers: c.ListenAddrs(), Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close() })
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(1<<20), kgo.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(prod.Close)
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	return &benchRig{cluster: c, reg: reg, prod: prod, cl: cl}
}

func (r *benchRig) register(b *testing.B, subject, schema string) int {
	ss, err := r.cl.CreateSchema(context.Background(), subject, sr.Schema{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	return ss.ID
}

func frame(id int) []byte {
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	return v
}

// cpuTicks is a process's user+system CPU in clock ticks (1/100 s).
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSinkThroughput fills a topic with b.N records, then times the
// sink writing them all into a real influxd: points/s and field values/s,
// with the CPU of the test process (sink, embedded Kafka, registry) and
// of influxd, in cores.
func BenchmarkSinkThroughput(b *testing.B) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		b.Fatal(err)
	}
	fad := ifaces.Topic("MTM1M3", "forceActuatorData")
	cases := []struct {
		name   string
		topic  string // the schema's own topic: another is refused
		fields int
		value  func(r *benchRig, b *testing.B) func(i int) []byte
	}{
		{"fields=8", "lsst.sal.Bench.eight", 9, func(r *benchRig, b *testing.B) func(int) []byte {
			id := r.register(b, "bench8-value", eightFields)
			codec, _ := goavro.NewCodec(eightFields)
			return func(i int) []byte {
				rec := map[string]any{"private_efdStamp": 1.7e9 + float64(i)*1e-3}
				for _, k := range "abcdefgh" {
					rec[string(k)] = float64(i) + float64(k)
				}
				v, _ := codec.BinaryFromNative(frame(id), rec)
				return v
			}
		}},
		{"MTM1M3.forceActuatorData", fad.KafkaTopic(""), fieldValues(fad), func(r *benchRig, b *testing.B) func(int) []byte {
			id := r.register(b, "fad-value", fad.Schema())
			return func(i int) []byte {
				s := sal.NewSample(fad)
				s.Values[fad.FieldIndex("private_efdStamp")] = 1.7e9 + float64(i)*1e-3
				v, err := fad.AppendAvro(frame(id), s)
				if err != nil {
					b.Fatal(err)
				}
				return v
			}
		}},
	}
	for ci, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := newBenchRig(b)
			value := c.value(r, b)
			topic := c.topic
			if _, err := kadm.NewClient(r.prod).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
			var failed atomic.Int64
			for i := range b.N {
				r.prod.Produce(context.Background(), &kgo.Record{Topic: topic, Value: value(i)}, func(_ *kgo.Record, err error) {
					if err != nil {
						failed.Add(1)
					}
				})
			}
			if err := r.prod.Flush(context.Background()); err != nil || failed.Load() > 0 {
				b.Fatalf("producing the input: %v, %d records failed", err, failed.Load())
			}
			db := fmt.Sprintf("bench_%d_%d", ci, b.N)
			s, err := New(Config{
				Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: influx.URL(),
				Rules: []Rule{{Topics: []string{topic}, Database: db}}, CreateDatabases: true, Logger: quiet(),
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			cpu0, icpu0 := selfCPU(), cpuTicks(influx.PID())
			b.ResetTimer()
			start := time.Now()
			go func() { done <- s.Run(ctx) }()
			for deadline := time.Now().Add(2 * time.Minute); s.Stats.Points.Load() < int64(b.N); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d points written in 2 min (decode errors %d, rejected %d, mismatched %d)", s.Stats.Points.Load(), b.N, s.Stats.DecodeErrors.Load(), s.Stats.Rejected.Load(), s.Stats.Mismatched.Load())
				}
			}
			wall := time.Since(start)
			b.StopTimer()
			cpu, icpu := selfCPU()-cpu0, time.Duration(cpuTicks(influx.PID())-icpu0)*10*time.Millisecond
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/wall.Seconds(), "points/s")
			b.ReportMetric(float64(b.N)*float64(c.fields)/wall.Seconds(), "values/s")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "proc-cores")
			b.ReportMetric(icpu.Seconds()/wall.Seconds(), "influxd-cores")
		})
	}
}

// fieldValues is how many field values a topic's point has.
func fieldValues(t *sal.Topic) int {
	n := 0
	for _, f := range t.Fields {
		if f.AvroType == "string" {
			n++
		} else {
			n += f.Count
		}
	}
	return n
}

// BenchmarkSinkNominal writes every telemetry topic of the shared ts_xml
// interfaces at the nominal summit profile's rates for 5 s per op through
// the sink into influxd, and reports the latency from each record's Kafka
// timestamp to InfluxDB's acknowledgement.
func BenchmarkSinkNominal(b *testing.B) {
	dir := os.Getenv("TS_XML_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "ts_xml", "sal_interfaces")
	}
	ifaces, err := sal.LoadDir(dir)
	if err != nil {
		b.Fatalf("the real ts_xml interfaces are needed (TS_XML_DIR or ../shared): %v", err)
	}
	p, err := mocksal.LoadProfile("../scenarios/profiles/nominal-summit.yaml")
	if err != nil {
		b.Fatal(err)
	}
	planned, err := p.Resolve(ifaces)
	if err != nil {
		b.Fatal(err)
	}
	r := newBenchRig(b)
	type writer struct {
		topic *sal.Topic
		kafka string
		id    int
		rate  float64
	}
	var ws []writer
	for _, pl := range planned {
		t := pl.Writer.Topic
		ws = append(ws, writer{topic: t, kafka: t.KafkaTopic(""), id: r.register(b, t.Subject(""), t.Schema()), rate: pl.Writer.RateHz})
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.kafka)
	}
	if _, err := kadm.NewClient(r.prod).CreateTopics(context.Background(), 1, 1, nil, names...); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: influx.URL(),
		Rules: []Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "bench_nominal"}}, CreateDatabases: true,
		TopicRefresh: 200 * time.Millisecond, Logger: quiet(),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// Measure from the group's first assignment: samples sent before it
	// would wait for it and count as latency.
	gctx, gcancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = r.cluster.WaitGroupStable(gctx, "efdsink", 1)
	gcancel()
	if err != nil {
		b.Fatalf("the sink's group: %v", err)
	}
	sent := 0
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		var mu sync.Mutex
		end := time.Now().Add(5 * time.Second)
		for _, w := range ws {
			wg.Go(func() {
				tick := time.NewTicker(time.Duration(float64(time.Second) / w.rate))
				defer tick.Stop()
				n := 0
				for now := range tick.C {
					if now.After(end) {
						break
					}
					smp := sal.NewSample(w.topic)
					smp.Values[w.topic.FieldIndex("private_efdStamp")] = float64(now.UnixNano()) / 1e9
					v, err := w.topic.AppendAvro(frame(w.id), smp)
					if err != nil {
						b.Error(err)
						return
					}
					r.prod.Produce(ctx, &kgo.Record{Topic: w.kafka, Value: v}, nil)
					n++
				}
				mu.Lock()
				sent += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	for deadline := time.Now().Add(30 * time.Second); s.Stats.Points.Load() < int64(sent) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	p50, p99, n := s.Latency()
	b.ReportMetric(float64(sent)/float64(b.N)/5, "samples/s")
	b.ReportMetric(float64(len(ws)), "topics")
	b.ReportMetric(float64(p50.Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1e3, "p99-ms")
	if n < int64(sent) {
		b.Errorf("%d of %d points written", n, sent)
	}
}
