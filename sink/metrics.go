package sink

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a sink's Prometheus metrics, on a registry of their own.
type Metrics struct {
	reg          *prometheus.Registry
	points       *prometheus.CounterVec
	batchLatency *prometheus.HistogramVec
	batchSize    prometheus.Histogram
	latency      prometheus.Histogram
	lagRecords   *prometheus.GaugeVec
	decodeErrors *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	nonFinite    *prometheus.CounterVec
	mismatched   *prometheus.CounterVec
	rate         prometheus.Gauge
}

// NewMetrics returns metrics on a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "efdsink_points_written_total", Help: "Points InfluxDB accepted, by database.",
		}, []string{"database"}),
		batchLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "efdsink_batch_write_seconds", Help: "Time InfluxDB took to accept a batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"database"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "efdsink_batch_points", Help: "Points per write.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "efdsink_record_latency_seconds", Help: "From a record's Kafka timestamp to InfluxDB's acknowledgement of its point.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}),
		lagRecords: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "efdsink_consumer_lag_records", Help: "Records after the last one fetched, by topic and partition.",
		}, []string{"topic", "partition"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "efdsink_decode_errors_total", Help: "Records that could not be decoded, reported and skipped.",
		}, []string{"topic"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "efdsink_points_rejected_total", Help: "Points InfluxDB refused with a client error, reported and skipped.",
		}, []string{"topic"}),
		nonFinite: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "efdsink_nonfinite_values_total", Help: "NaN and ±Inf field values left out of points (InfluxDB cannot store them).",
		}, []string{"topic"}),
		mismatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "efdsink_schema_mismatches_total", Help: "Records refused because their schema is not their topic's (a schema id resolved in the wrong registry), reported and never written.",
		}, []string{"topic"}),
		rate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "efdsink_points_per_second", Help: "Points written per second over the last 5 s.",
		}),
	}
	m.reg.MustRegister(m.points, m.batchLatency, m.batchSize, m.latency, m.lagRecords, m.decodeErrors, m.rejected, m.nonFinite, m.mismatched, m.rate)
	return m
}

// Registry is the Prometheus registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) batch(db string, n int, took time.Duration) {
	m.points.WithLabelValues(db).Add(float64(n))
	m.batchLatency.WithLabelValues(db).Observe(took.Seconds())
	m.batchSize.Observe(float64(n))
}

func (m *Metrics) lag(topic string, partition int32, n int64) {
	m.lagRecords.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(max(n, 0)))
}

// rateFunc returns the periodic update of points per second from a counter.
func (m *Metrics) rateFunc(points *atomic.Int64) func(context.Context) {
	last, at := points.Load(), time.Now()
	return func(context.Context) {
		n, now := points.Load(), time.Now()
		m.rate.Set(float64(n-last) / now.Sub(at).Seconds())
		last, at = n, now
	}
}
