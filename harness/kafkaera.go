package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/sal"
)

// startWriters starts the stand's Kafka-era writer groups, all at once:
// each is its CSCs starting as salobj's SalInfo.start does, every topic of
// every CSC created and its schema registered before anything is written.
func (e *Env) startWriters(ctx context.Context) error {
	ws := make([]*kafkasal.Writer, len(e.Stand.Writers))
	errs := make([]error, len(e.Stand.Writers))
	var wg sync.WaitGroup
	for i, w := range e.Stand.Writers {
		wg.Go(func() { ws[i], errs[i] = e.openWriter(ctx, w) })
	}
	wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.writers == nil {
		e.writers = map[string]*kafkasal.Writer{}
	}
	for i, w := range e.Stand.Writers {
		if ws[i] != nil {
			e.writers[w.Name] = ws[i]
		}
	}
	return errors.Join(errs...)
}

func (e *Env) openWriter(ctx context.Context, w *stand.WriterSpec) (*kafkasal.Writer, error) {
	se := e.Sites[w.Site.Value]
	via := e.reach(w.Site.Value)
	cfg := kafkasal.Config{Brokers: se.Brokers, RegistryURL: via.registry(), KafkaOpts: via.kafka(standsec.Producer), RegistryOpts: e.registryClientOpts(), Subname: cmp.Or(w.Subname, "sal"),
		ReplicationFactor: w.ReplicationFactor, Acks: w.WaitAck, Logger: e.log.With("component", "writer "+w.Name)}
	if err := via.Err(); err != nil {
		return nil, fmt.Errorf("writer group %s: %w", w.Name, err)
	}
	var comps []*sal.Component
	for _, c := range w.CSCs {
		name, _, _ := strings.Cut(c.Value, ":")
		if comp := e.Stand.Loaded.Component(name); comp != nil && !slices.Contains(comps, comp) {
			comps = append(comps, comp)
		}
	}
	start := time.Now()
	kw, err := kafkasal.Open(ctx, cfg, comps)
	if err != nil {
		return nil, fmt.Errorf("writer group %s: %w", w.Name, err)
	}
	e.log.Debug("stand: writer group started", "writer", w.Name, "cscs", len(comps), "took", time.Since(start))
	return kw, nil
}

// closeWriters flushes and closes the writer groups.
func (e *Env) closeWriters(ctx context.Context) {
	e.mu.Lock()
	ws := e.writers
	e.writers = nil
	e.mu.Unlock()
	for name, kw := range ws {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := kw.Close(fctx); err != nil {
			e.log.Error("harness: Kafka-era writer", "writer", name, "err", err)
		}
		cancel()
	}
}

// kafkaWriter is the stand's writer group name (started with the stand),
// ready to write t.
func (e *Env) kafkaWriter(ctx context.Context, name string, t *sal.Topic) (*kafkasal.Writer, error) {
	e.mu.Lock()
	kw := e.writers[name]
	e.mu.Unlock()
	if kw == nil {
		return nil, fmt.Errorf("no writer group %q in the stand", name)
	}
	return kw, kw.Ensure(ctx, t)
}

func (st *Steps) publishKafka(ctx context.Context, csc, index, topic, rate, dur, writer string) error {
	w := st.Env.Stand.Writer(writer)
	if w == nil {
		return fmt.Errorf("no writer group %q in the stand", writer)
	}
	if !slices.ContainsFunc(w.CSCs, func(c Ref) bool { n, _, _ := strings.Cut(c.Value, ":"); return n == csc }) {
		return fmt.Errorf("writer group %q has no %s (it has %v)", writer, csc, w.CSCs)
	}
	return publishSome(ctx, PublishSpec{CSC: csc, Index: parseIndex(index), Topic: topic, KafkaWriter: writer}, rate, dur)
}

// noneInTopic waits for the traffic's writer and then for after, and
// fails if a record of the traffic (its private_origin) is in the Kafka
// topic at site; a topic that does not exist holds none.
func (st *Steps) noneInTopic(ctx context.Context, csc, index, topic, kafkaTopic, site, after string) error {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return err
	}
	se := st.Env.Sites[site]
	if se == nil {
		return fmt.Errorf("no site %q", site)
	}
	if err := tr.Wait(ctx); err != nil {
		return fmt.Errorf("writing %s.%s: %w", csc, topic, err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(seconds(after)):
	}
	origin := tr.Topic.FieldIndex("private_origin")
	var found, read int
	err = observe.ReadToEnd(ctx, se.Brokers, kafkaTopic, func(r *kgo.Record) {
		read++
		if len(r.Value) < 5 {
			return
		}
		if s, err := tr.Topic.DecodeAvro(r.Value[5:]); err == nil && s.Values[origin] == tr.Origin {
			found++
		}
	}, se.KafkaOpts...)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s at %s: %w", kafkaTopic, site, err)
	}
	if found > 0 {
		return fmt.Errorf("%s %s: %d of this scenario's samples are in %s at %s (of %d records there)", csc, topic, found, kafkaTopic, site, read)
	}
	return nil
}
