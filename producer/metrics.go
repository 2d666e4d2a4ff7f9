package producer

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a producer's Prometheus metrics, on a registry of its own,
// labelled by CSC and topic.
type metrics struct {
	reg      *prometheus.Registry
	read     *prometheus.CounterVec
	produced *prometheus.CounterVec
	failed   *prometheus.CounterVec
	depth    *prometheus.GaugeVec
	latency  *prometheus.HistogramVec

	mu  sync.Mutex
	hdr *hdrhistogram.Histogram // rcvStamp → broker ack, µs, for status lines and benchmarks
}

func newMetrics() *metrics {
	labels := []string{"csc", "topic"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		read: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salkafka_samples_read_total", Help: "SAL samples read from the DDS domain.",
		}, labels),
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salkafka_records_produced_total", Help: "Kafka records acknowledged by the broker.",
		}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salkafka_records_failed_total", Help: "Samples that could not be encoded or produced.",
		}, labels),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "salkafka_queue_depth", Help: "Samples waiting in the topic's DDS read queue.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "salkafka_produce_latency_seconds",
			Help:    "From private_rcvStamp (sample read) to the broker's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, labels),
		hdr: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
	}
	m.reg.MustRegister(m.read, m.produced, m.failed, m.depth, m.latency)
	return m
}

// topicMetrics are one topic's metric children, looked up once.
type topicMetrics struct {
	read, produced, failed prometheus.Counter
	depth                  prometheus.Gauge
	latency                prometheus.Observer
}

func (m *metrics) topic(csc, name string) topicMetrics {
	return topicMetrics{
		read: m.read.WithLabelValues(csc, name), produced: m.produced.WithLabelValues(csc, name),
		failed: m.failed.WithLabelValues(csc, name), depth: m.depth.WithLabelValues(csc, name),
		latency: m.latency.WithLabelValues(csc, name),
	}
}

func (m *metrics) observe(tm topicMetrics, d time.Duration) {
	tm.latency.Observe(d.Seconds())
	m.mu.Lock()
	_ = m.hdr.RecordValue(max(int64(d/time.Microsecond), 1))
	m.mu.Unlock()
}

// Latency returns the p50 and p99 of rcvStamp → broker ack so far.
func (p *Producer) Latency() (p50, p99 time.Duration, n int64) {
	m := p.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return us(m.hdr.ValueAtQuantile(50)), us(m.hdr.ValueAtQuantile(99)), m.hdr.TotalCount()
}

// Registry is the producer's Prometheus registry (to serve at /metrics).
func (p *Producer) Registry() *prometheus.Registry { return p.metrics.reg }
