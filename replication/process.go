package replication

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/httpserve"
)

// ProcessConfig is the mirror command: either an MM2 properties file or
// one flow given by flags, with heartbeats and a metrics endpoint.
type ProcessConfig struct {
	// ConfigFile is an MM2 properties file; when set, Flow is not used.
	ConfigFile string
	// Flow is the one flow to run when there is no ConfigFile.
	Flow Config
	// Heartbeats is the flow's emit.heartbeats.interval; 0 turns them
	// off. Like MM2, both pairs of the flow's clusters get them.
	Heartbeats time.Duration
	// MetricsAddr, when set, serves Prometheus metrics at /metrics.
	MetricsAddr string
	Logger      *slog.Logger
}

// RunProcess loads the configuration, serves metrics and replicates until
// ctx ends.
func RunProcess(ctx context.Context, pc ProcessConfig) error {
	log := pc.Logger
	if log == nil {
		log = slog.Default()
	}
	var cfg *MM2Config
	if pc.ConfigFile != "" {
		c, err := ParseMM2(pc.ConfigFile)
		if err != nil {
			return &exit.BadInput{Err: err}
		}
		cfg = c
	} else {
		f := pc.Flow
		if _, err := f.Validate(); err != nil {
			return &exit.BadInput{Err: err}
		}
		cfg = &MM2Config{Flows: []Config{f}}
		if pc.Heartbeats > 0 {
			cfg.Heartbeats = []HeartbeatConfig{
				{SourceAlias: f.SourceAlias, TargetAlias: f.TargetAlias, TargetBrokers: f.TargetBrokers, Interval: pc.Heartbeats},
				{SourceAlias: f.TargetAlias, TargetAlias: f.SourceAlias, TargetBrokers: f.SourceBrokers, Interval: pc.Heartbeats},
			}
		}
	}
	m := NewMetrics()
	if pc.MetricsAddr != "" {
		bound, stop, err := httpserve.Metrics(pc.MetricsAddr, m.Registry(), log)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		defer stop()
		log.Info("mirror: metrics", "url", "http://"+bound+"/metrics")
	}
	for _, f := range cfg.Flows {
		log.Info("mirror: flow", "source", f.SourceAlias, "target", f.TargetAlias, "topics", f.Topics, "policy", f.Policy)
	}
	return RunMM2(ctx, cfg, m, log)
}
