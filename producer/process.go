package producer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/internal/httpserve"

	"github.com/lsst-ts/teststand/dds"
)

// ProcessConfig is a producer running as its own process (the salkafka
// binary): it joins its DDS domain across processes and signals readiness
// the way ts_salkafka does.
type ProcessConfig struct {
	Config
	// DDSBasePort is the cross-process bus's base port; 0 means
	// dds.BasePort().
	DDSBasePort int
	// DDS is the DDS transport ("simulated", the default, or
	// "cyclonedds", see dds.Connect).
	DDS string
	// ReadyFile is touched once every topic producer has started; ""
	// means ReadyFilePath(os.Getenv("SALKAFKA_SEMAPHORE_SUFFIX")).
	ReadyFile string
	// MetricsAddr, when set, serves Prometheus metrics at /metrics.
	MetricsAddr string
	// StatusEvery, when set, logs a status line at this interval.
	StatusEvery time.Duration
	// AdminAddr, when set, serves the admin API (hot add) there.
	AdminAddr string
	// File is the --file the groups came from; each receive on Reload
	// re-reads it and adds the CSCs it now lists (hot add).
	File   string
	Reload <-chan struct{}
}

// ReadyFilePath is ts_salkafka's readiness semaphore (its Kubernetes
// startup probe): /tmp/SALKAFKA_PRODUCER_RUNNING, with
// _<SUFFIX upper-cased> appended when a suffix is set.
func ReadyFilePath(suffix string) string {
	p := "/tmp/SALKAFKA_PRODUCER_RUNNING"
	if suffix != "" {
		p += "_" + strings.ToUpper(suffix)
	}
	return p
}

// RunProcess joins the domain, starts the producer, touches the readiness
// file, and forwards until ctx ends; then it flushes, removes the file
// and leaves the domain.
func RunProcess(ctx context.Context, cfg ProcessConfig) error {
	if cfg.ReadyFile == "" {
		cfg.ReadyFile = ReadyFilePath(os.Getenv("SALKAFKA_SEMAPHORE_SUFFIX"))
	}
	// A stale semaphore from an earlier run must not claim readiness.
	if err := os.Remove(cfg.ReadyFile); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("producer: remove %s: %w", cfg.ReadyFile, err)
	}
	if cfg.Bus == nil {
		cfg.Bus = dds.NewBus()
		defer cfg.Bus.Close()
	}
	link, err := dds.Connect(ctx, cfg.DDS, cfg.Bus, dds.LinkConfig{Domain: cfg.Domain, Interfaces: cfg.Interfaces, BasePort: cfg.DDSBasePort, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	defer link.Close()
	ready := cfg.Ready
	cfg.Ready = func() {
		if err := os.WriteFile(cfg.ReadyFile, nil, 0o644); err != nil && cfg.Logger != nil {
			cfg.Logger.Error("producer: readiness file", "path", cfg.ReadyFile, "err", err)
		}
		if ready != nil {
			ready()
		}
	}
	defer os.Remove(cfg.ReadyFile)
	p, err := New(ctx, cfg.Config)
	if err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.MetricsAddr != "" {
		addr, stop, err := httpserve.Metrics(cfg.MetricsAddr, p.Registry(), log)
		if err != nil {
			p.close()
			return fmt.Errorf("producer: %w", err)
		}
		defer stop()
		log.Info("producer: metrics", "url", "http://"+addr+"/metrics")
	}
	if cfg.AdminAddr != "" {
		addr, stop, err := p.serveAdmin(cfg.AdminAddr, log)
		if err != nil {
			p.close()
			return fmt.Errorf("producer: admin on %s: %w", cfg.AdminAddr, err)
		}
		defer stop()
		log.Info("producer: admin", "url", "http://"+addr+"/components")
	}
	if cfg.Reload != nil {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-rctx.Done():
					return
				case <-cfg.Reload:
					p.reload(rctx, cfg.File, log)
				}
			}
		}()
		defer func() { cancel(); <-done }()
	}
	if cfg.StatusEvery > 0 {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.statusLines(sctx, cfg.StatusEvery, log)
		}()
		defer func() { cancel(); <-done }()
	}
	err = p.Run(ctx)
	p.logStatus(log, "producer: stopped")
	return err
}

// reload re-reads the --file and adds the CSCs it now lists. A bad file
// changes nothing and is reported.
func (p *Producer) reload(ctx context.Context, file string, log *slog.Logger) {
	groups, err := LoadFile(file, p.cfg.Interfaces)
	if err != nil {
		log.Error("producer: reload refused; nothing changed", "err", err)
		return
	}
	added, err := p.AddGroups(ctx, nil, groups)
	if err != nil {
		log.Error("producer: reload failed", "file", file, "err", err)
		return
	}
	log.Info("producer: reloaded", "file", file, "added", added)
}

// logStatus logs the producer's counters and its rcvStamp → ack latency.
func (p *Producer) logStatus(log *slog.Logger, msg string) {
	p50, p99, n := p.Latency()
	deepest := 0
	for _, tp := range p.topicProducers() {
		deepest = max(deepest, tp.reader.Len())
	}
	log.Info(msg, "read", p.Stats.Read.Load(), "produced", p.Stats.Produced.Load(),
		"failed", p.Stats.Failed.Load(), "deepest_queue", deepest, "acked", n,
		"latency_p50_us", p50.Microseconds(), "latency_p99_us", p99.Microseconds())
}

// statusLines logs the producer's counters at every interval.
func (p *Producer) statusLines(ctx context.Context, interval time.Duration, log *slog.Logger) {
	every.Run(ctx, interval, func(context.Context) { p.logStatus(log, "producer: status") })
}
