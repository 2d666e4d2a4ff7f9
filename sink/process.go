package sink

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/httpserve"
)

// ProcessConfig is the efdsink command: a sink with its rules file and
// metrics endpoint.
type ProcessConfig struct {
	Config
	// RulesFile, when set, replaces Config.Rules (see LoadRules).
	RulesFile string
	// MetricsAddr, when set, serves Prometheus metrics at /metrics.
	MetricsAddr string
}

// RunProcess loads the rules, serves metrics and runs the sink until ctx
// ends (or, repairing, until caught up).
func RunProcess(ctx context.Context, pc ProcessConfig) error {
	log := pc.Logger
	if log == nil {
		log = slog.Default()
		pc.Logger = log
	}
	if pc.RulesFile != "" {
		rules, err := LoadRules(pc.RulesFile)
		if err != nil {
			return &exit.BadInput{Err: err}
		}
		pc.Rules = rules
	}
	if pc.Metrics == nil {
		pc.Metrics = NewMetrics()
	}
	s, err := New(pc.Config)
	if err != nil {
		return &exit.BadInput{Err: err}
	}
	if pc.MetricsAddr != "" {
		bound, stop, err := httpserve.Metrics(pc.MetricsAddr, pc.Metrics.Registry(), log)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		defer stop()
		log.Info("efdsink: metrics", "url", "http://"+bound+"/metrics")
	}
	for _, r := range s.rules {
		log.Info("efdsink: rule", "topics", r.Topics, "database", r.destName, "timestamp", r.Timestamp, "precision", r.Precision)
	}
	return s.Run(ctx)
}
