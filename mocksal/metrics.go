package mocksal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/internal/httpserve"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a mocksal process's counters, on its own registry.
type metrics struct {
	reg     *prometheus.Registry
	written *prometheus.CounterVec
	total   atomic.Int64
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mocksal_samples_written_total",
			Help: "SAL samples written on the DDS domain, by CSC and topic.",
		}, []string{"csc", "topic"}),
	}
	m.reg.MustRegister(m.written)
	return m
}

func (m *metrics) wrote(w Write) {
	m.written.WithLabelValues(w.CSC, w.Topic).Inc()
	m.total.Add(1)
}

// serve exposes /metrics on addr until stop is called.
func (m *metrics) serve(addr string, log *slog.Logger) (bound string, stop func(), err error) {
	return httpserve.Metrics(addr, m.reg, log)
}

// progress prints the samples written so far and the current rate.
func (m *metrics) progress(ctx context.Context, w io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "mocksal: %d samples written\n", m.total.Load())
			return
		case now := <-t.C:
			n := m.total.Load()
			fmt.Fprintf(w, "mocksal: %d samples written, %.0f/s\n", n, float64(n-last)/now.Sub(lastAt).Seconds())
			last, lastAt = n, now
		}
	}
}
