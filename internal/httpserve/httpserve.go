package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Serve serves h on addr until stop is called. It returns the bound
// address (useful with port 0).
func Serve(addr string, h http.Handler, log *slog.Logger) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && log != nil {
			log.Error("HTTP endpoint stopped", "addr", addr, "err", err)
		}
	}()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// Metrics serves reg, and the process's runtime metrics, at
// http://addr/metrics until stop is called.
func Metrics(addr string, reg *prometheus.Registry, log *slog.Logger) (bound string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, runtimeMetrics}, promhttp.HandlerOpts{}))
	return Serve(addr, mux, log)
}

// runtimeMetrics are the process's own: go_goroutines, go_memstats_*,
// process_resident_memory_bytes and the like, which every binary serves
// beside its component's metrics (a soak reads them; so does production's
// Prometheus).
var runtimeMetrics = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}()
