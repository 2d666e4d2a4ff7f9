package replication

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Metrics are the replication metrics of one or more flows, on a
// Prometheus registry, labelled like MM2's MirrorSourceConnector metrics:
// source and target alias, target topic and partition.
type Metrics struct {
	reg     *prometheus.Registry
	records *prometheus.CounterVec
	bytes   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	lagRecs *prometheus.GaugeVec
	lagMs   *prometheus.GaugeVec
	topics  *prometheus.CounterVec
	beats   *prometheus.CounterVec
	rate    *prometheus.GaugeVec
}

// NewMetrics returns metrics on a registry of their own. Flows of one
// process share one by setting Config.Metrics.
func NewMetrics() *Metrics {
	tp := []string{"source", "target", "topic", "partition"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mirror_records_total", Help: "Records replicated and acknowledged by the target (MM2 record-count).",
		}, tp),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mirror_bytes_total", Help: "Key and value bytes replicated (MM2 byte-count).",
		}, tp),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mirror_replication_latency_seconds",
			Help:    "From the source record's timestamp to the target's acknowledgement (MM2 replication-latency-ms).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, tp),
		lagRecs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mirror_lag_records", Help: "Records at the source not yet replicated: high watermark minus the next offset to copy.",
		}, tp),
		lagMs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mirror_lag_ms", Help: "Replication latency of the partition's latest replicated record, in ms.",
		}, tp),
		topics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mirror_topics_total", Help: "Topics whose replication started.",
		}, []string{"source", "target"}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mirror_records_per_second", Help: "Records replicated per second by the flow, over the last rate interval (5 s).",
		}, []string{"source", "target"}),
		beats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mirror_heartbeats_total", Help: "Heartbeats emitted into the target's heartbeats topic.",
		}, []string{"source", "target"}),
	}
	m.reg.MustRegister(m.records, m.bytes, m.latency, m.lagRecs, m.lagMs, m.topics, m.beats, m.rate)
	return m
}

// Registry is the Prometheus registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Lag is one partition's replication lag.
type Lag struct {
	Topic     string // at the target
	Partition int32
	Records   int64
	Latency   time.Duration // of the latest replicated record
}

// observe records a batch acknowledged at acked; in and out are the source
// records and their copies, hwm the source high watermarks last fetched.
func (m *Metrics) observe(source, target string, in, out []*kgo.Record, hwm map[string]map[int32]int64, acked time.Time) {
	type tp struct {
		topic string
		p     int32
	}
	last := map[tp]*kgo.Record{}
	for i, rec := range in {
		l := []string{source, target, out[i].Topic, strconv.Itoa(int(rec.Partition))}
		m.records.WithLabelValues(l...).Inc()
		m.bytes.WithLabelValues(l...).Add(float64(len(rec.Key) + len(rec.Value)))
		m.latency.WithLabelValues(l...).Observe(acked.Sub(rec.Timestamp).Seconds())
		k := tp{rec.Topic, rec.Partition}
		if prev := last[k]; prev == nil || rec.Offset > prev.Offset {
			last[k] = rec
		}
	}
	for i, rec := range in {
		k := tp{rec.Topic, rec.Partition}
		if last[k] != rec {
			continue
		}
		l := []string{source, target, out[i].Topic, strconv.Itoa(int(rec.Partition))}
		m.lagRecs.WithLabelValues(l...).Set(float64(max(hwm[rec.Topic][rec.Partition]-rec.Offset-1, 0)))
		m.lagMs.WithLabelValues(l...).Set(float64(acked.Sub(rec.Timestamp).Milliseconds()))
	}
}

// Lags returns the current lag of every partition the metrics know, for
// status lines and reports.
func (m *Metrics) Lags() []Lag {
	fams, err := m.reg.Gather()
	if err != nil {
		return nil
	}
	byKey := map[string]*Lag{}
	var out []*Lag
	for _, f := range fams {
		if f.GetName() != "mirror_lag_records" && f.GetName() != "mirror_lag_ms" {
			continue
		}
		for _, mt := range f.GetMetric() {
			var topic string
			var part int
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "topic":
					topic = l.GetValue()
				case "partition":
					part, _ = strconv.Atoi(l.GetValue())
				}
			}
			key := topic + "/" + strconv.Itoa(part)
			lg := byKey[key]
			if lg == nil {
				lg = &Lag{Topic: topic, Partition: int32(part)}
				byKey[key] = lg
				out = append(out, lg)
			}
			v := mt.GetGauge().GetValue()
			if f.GetName() == "mirror_lag_records" {
				lg.Records = int64(v)
			} else {
				lg.Latency = time.Duration(v) * time.Millisecond
			}
		}
	}
	res := make([]Lag, len(out))
	for i, l := range out {
		res[i] = *l
	}
	return res
}
