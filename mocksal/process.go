package mocksal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/sal"
)

// ProcessConfig is mocksal running as its own process on a DDS domain.
type ProcessConfig struct {
	Interfaces *sal.Interfaces
	// Domain and PartitionPrefix say where the writers publish.
	Domain          int
	PartitionPrefix string
	// Writers run concurrently; their Domain and PartitionPrefix are
	// taken from above.
	Writers []WriterConfig
	// DDSBasePort is the cross-process bus's base port; 0 means
	// dds.BasePort().
	DDSBasePort int
	// DDS is the DDS transport ("simulated", the default, or
	// "cyclonedds", see dds.Connect).
	DDS string
	// WaitPeers waits until the link has this many connections before
	// writing (readers on a domain only get samples written after they
	// joined, as with volatile DDS topics).
	WaitPeers int
	// Ledger receives one JSON line per written sample (a Write), the
	// ground truth the harness checks deliveries against. May be nil.
	Ledger io.Writer
	// Record, when set, receives a recording of everything written.
	Record io.Writer
	// Replay, when set, is a recording to replay instead of Writers;
	// ReplayName names it in errors (its file).
	Replay       io.Reader
	ReplayName   string
	ReplayConfig ReplayConfig
	// MetricsAddr, when set, serves Prometheus metrics there
	// (mocksal_samples_written_total by csc and topic) at /metrics.
	MetricsAddr string
	// Progress, when set, receives a status line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// Kafka, when set, makes the writers Kafka-era SAL components: they
	// write straight to that Kafka under its subname (package kafkasal),
	// on no DDS domain. Replay and Record need a DDS domain.
	Kafka *kafkasal.Config
}

// SalmockTopics returns the first n topics of the loaded interfaces in
// alphabetical order of their Kafka names, which kafkaefd's salmock
// publishes at 1 Hz.
func SalmockTopics(ifaces *sal.Interfaces, n int) []*sal.Topic {
	var all []*sal.Topic
	for _, c := range ifaces.Names() {
		all = append(all, ifaces.Component(c).Topics...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].KafkaTopic("") < all[j].KafkaTopic("") })
	if n > len(all) {
		n = len(all)
	}
	return all[:n]
}

// RunProcess joins the domain and runs the writers until they finish or
// ctx ends.
func RunProcess(ctx context.Context, cfg ProcessConfig) error {
	if cfg.Kafka != nil {
		return runKafka(ctx, cfg)
	}
	bus := dds.NewBus()
	defer bus.Close()
	link, err := dds.Connect(ctx, cfg.DDS, bus, dds.LinkConfig{Domain: cfg.Domain, Interfaces: cfg.Interfaces, BasePort: cfg.DDSBasePort, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	defer link.Close()
	for link.Peers() < cfg.WaitPeers {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	var rec *Recorder
	if cfg.Record != nil {
		if rec, err = NewRecorder(cfg.Record); err != nil {
			return err
		}
		rec.Attach(bus, cfg.Domain)
	}
	m := newMetrics()
	if cfg.MetricsAddr != "" {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		addr, stop, err := m.serve(cfg.MetricsAddr, log)
		if err != nil {
			return err
		}
		log.Info("mocksal: metrics", "url", "http://"+addr+"/metrics")
		defer stop()
	}
	if cfg.Progress != nil {
		every := cmp.Or(cfg.ProgressEvery, time.Second)
		pctx, cancel := context.WithCancel(ctx)
		var pw sync.WaitGroup
		pw.Add(1)
		go func() {
			defer pw.Done()
			m.progress(pctx, cfg.Progress, every)
		}()
		defer func() { cancel(); pw.Wait() }()
	}
	onWrite, ledgerErr := ledger(cfg.Ledger, m)
	if cfg.Replay != nil {
		rc := cfg.ReplayConfig
		if rc.Domain < 0 {
			rc.Domain = cfg.Domain
		}
		_, err := Replay(ctx, bus, cfg.Interfaces, cfg.Replay, rc, onWrite)
		if err != nil && IsRecording(err) {
			// A recording that cannot be read is bad input, named by
			// its file and line.
			err = &exit.BadInput{Err: fmt.Errorf("%s: %w", cmp.Or(cfg.ReplayName, "recording"), err)}
		}
		return errors.Join(err, ledgerErr(), closeRecorder(rec))
	}
	errs := make([]error, len(cfg.Writers))
	var wg sync.WaitGroup
	for i, w := range cfg.Writers {
		w.Domain, w.PartitionPrefix = cfg.Domain, cfg.PartitionPrefix
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Run(ctx, bus, w, onWrite)
		}()
	}
	wg.Wait()
	return errors.Join(errors.Join(errs...), ledgerErr(), closeRecorder(rec))
}

// runKafka runs the writers as Kafka-era SAL components: as salobj's
// SalInfo.start, every topic of each of their components is created and
// its schema registered first, then each writes straight to the Kafka of
// cfg.Kafka; what is in flight is flushed at the end.
func runKafka(ctx context.Context, cfg ProcessConfig) error {
	if cfg.Replay != nil || cfg.Record != nil {
		return &exit.BadInput{Err: errors.New("mocksal: --replay and --record need a DDS domain, not --kafka")}
	}
	var comps []*sal.Component
	var topics []*sal.Topic
	for _, w := range cfg.Writers {
		var c *sal.Component
		if cfg.Interfaces != nil {
			c = cfg.Interfaces.Component(w.Topic.CSC)
		}
		if c != nil && slices.Contains(c.Topics, w.Topic) {
			if !slices.Contains(comps, c) {
				comps = append(comps, c)
			}
		} else if !slices.Contains(topics, w.Topic) {
			topics = append(topics, w.Topic) // of no interfaces mocksal was given
		}
	}
	kc := *cfg.Kafka
	kc.Logger = cmp.Or(kc.Logger, cfg.Logger)
	kw, err := kafkasal.Open(ctx, kc, comps, topics...)
	if err != nil {
		return err
	}
	onWrite, ledgerErr := ledger(cfg.Ledger, newMetrics())
	errs := make([]error, len(cfg.Writers))
	var wg sync.WaitGroup
	for i, w := range cfg.Writers {
		w.Publish = kw.Publish
		wg.Go(func() { _, errs[i] = Run(ctx, nil, w, onWrite) })
	}
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	closeErr := kw.Close(fctx)
	if n := kw.Failed.Load(); n > 0 {
		closeErr = errors.Join(closeErr, fmt.Errorf("mocksal: %d samples were not acknowledged by Kafka", n))
	}
	return errors.Join(errors.Join(errs...), ledgerErr(), closeErr)
}

// ledger is the writers' onWrite: it counts each write in m and writes it
// as a JSON line to w (when set); its error is the first line that could
// not be written.
func ledger(w io.Writer, m *metrics) (func(Write), func() error) {
	var mu sync.Mutex
	var err error
	enc := json.NewEncoder(cmp.Or[io.Writer](w, io.Discard))
	return func(wr Write) {
			m.wrote(wr)
			mu.Lock()
			defer mu.Unlock()
			if e := enc.Encode(wr); e != nil && err == nil {
				err = fmt.Errorf("mocksal: ledger: %w", e)
			}
		}, func() error {
			mu.Lock()
			defer mu.Unlock()
			return err
		}
}

func closeRecorder(r *Recorder) error {
	if r == nil {
		return nil
	}
	return r.Close()
}

// CSCWriters are writers of base for the topics of csc ("CSC" or
// "CSC:index"; an indexed CSC needs its index): the sal_names given, or
// every telemetry topic of the CSC when none is.
func CSCWriters(ifaces *sal.Interfaces, csc string, topics []string, base WriterConfig) ([]WriterConfig, error) {
	name, index, err := sal.ParseCSC(csc)
	if err != nil {
		return nil, err
	}
	comp := ifaces.Component(name)
	switch {
	case comp == nil:
		return nil, fmt.Errorf("unknown CSC %q (loaded: %s)", name, strings.Join(ifaces.Names(), ", "))
	case comp.Indexed && index == 0:
		return nil, fmt.Errorf("%s is indexed: give %s:N", name, name)
	}
	var chosen []*sal.Topic
	if len(topics) == 0 {
		for _, t := range comp.Topics {
			if t.Kind == sal.Telemetry {
				chosen = append(chosen, t)
			}
		}
	}
	for _, n := range topics {
		t := comp.Topic(n)
		if t == nil {
			return nil, fmt.Errorf("%s has no topic %q", name, n)
		}
		chosen = append(chosen, t)
	}
	var out []WriterConfig
	for _, t := range chosen {
		w := base
		w.Topic, w.Index = t, index
		out = append(out, w)
	}
	return out, nil
}
