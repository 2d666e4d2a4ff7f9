package producer

import (
	"context"
	"fmt"
	"os"
	"strings"

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
	// ReadyFile is touched once every topic producer has started; ""
	// means ReadyFilePath(os.Getenv("SALKAFKA_SEMAPHORE_SUFFIX")).
	ReadyFile string
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
	link, err := dds.Join(ctx, cfg.Bus, dds.LinkConfig{Domain: cfg.Domain, Interfaces: cfg.Interfaces, BasePort: cfg.DDSBasePort, Logger: cfg.Logger})
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
	return Run(ctx, cfg.Config)
}
