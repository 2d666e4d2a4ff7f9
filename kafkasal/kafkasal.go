// Package kafkasal is Kafka-era SAL (ts_salobj 8 and later): a SAL
// component writes its topics straight to a site's Kafka, with no SAL
// Kafka producer between it and the brokers. It does what salobj's
// SalInfo and WriteTopic do, read from ts_salobj 8.2:
//
//   - topics are lsst.<LSST_TOPIC_SUBNAME>.<CSC>.<sal_name>; at start every
//     topic of the component is created (telemetry, events, commands and
//     ackcmd, the topics a CSC's SalInfo reads and writes), not only those
//     it goes on to write, each with one partition (ts_xml's TopicInfo has no
//     other), LSST_KAFKA_REPLICATION_FACTOR replicas, and
//     cleanup.policy=compact for events only;
//   - every one of those schemas is registered at start under <topic>-value (Avro
//     namespace lsst.sal.<CSC> whatever the subname), and records carry
//     Confluent's frame with its id;
//   - telemetry has an empty key, every other topic the JSON key
//     {"name", "topic"} with "index" for an indexed component;
//   - the writer stamps private_sndStamp and private_kafkaStamp with the
//     same TAI time, private_efdStamp with it in UTC, and leaves
//     private_rcvStamp 0 (a reader sets it);
//   - a write does not wait for the broker's acknowledgement (acks are
//     LSST_KAFKA_PRODUCER_WAIT_ACKS, default 1, with no linger): Close
//     flushes what is in flight.
//
// A Kafka-era test is isolated by its subname, as a DDS-era one was by its
// domain: a consumer of lsst.sal.* never sees lsst.test.*.
package kafkasal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/sal"
)

// Config is what a Kafka-era SAL component is told, by salobj's
// environment variables (FromEnv) or directly.
type Config struct {
	// Brokers are the site's Kafka (LSST_KAFKA_BROKER_ADDR).
	Brokers []string
	// RegistryURL is the site's schema registry (LSST_SCHEMA_REGISTRY_URL).
	RegistryURL string
	// Subname is LSST_TOPIC_SUBNAME: "sal" in production; required.
	Subname string
	// ReplicationFactor is LSST_KAFKA_REPLICATION_FACTOR (0 means 1).
	ReplicationFactor int16
	// Acks is LSST_KAFKA_PRODUCER_WAIT_ACKS: "0", "1" (the default) or
	// "all".
	Acks string
	// KafkaOpts are extra franz-go options (SASL, TLS).
	KafkaOpts []kgo.Opt
	// RegistryOpts are extra registry client options (basic auth).
	RegistryOpts []sr.ClientOpt
	// Logger receives failed writes; nil means slog.Default().
	Logger *slog.Logger
}

// The environment variables of Kafka-era salobj.
const (
	EnvSubname     = "LSST_TOPIC_SUBNAME"
	EnvBroker      = "LSST_KAFKA_BROKER_ADDR"
	EnvRegistry    = "LSST_SCHEMA_REGISTRY_URL"
	EnvReplication = "LSST_KAFKA_REPLICATION_FACTOR"
	EnvAcks        = "LSST_KAFKA_PRODUCER_WAIT_ACKS"
)

// FromEnv is the Config salobj would take from getenv (os.Getenv when
// nil), with its defaults: brokers broker:29092, registry
// http://schema-registry:8081, one replica, acks 1. LSST_TOPIC_SUBNAME has
// no default, as in salobj.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	or := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		Brokers:     strings.Split(or(EnvBroker, "broker:29092"), ","),
		RegistryURL: or(EnvRegistry, "http://schema-registry:8081"),
		Subname:     getenv(EnvSubname),
		Acks:        or(EnvAcks, "1"),
	}
	if cfg.Subname == "" {
		return cfg, fmt.Errorf("kafkasal: %s is not set (production writes with \"sal\"; a test with a subname of its own)", EnvSubname)
	}
	rf, err := strconv.ParseInt(or(EnvReplication, "1"), 10, 16)
	if err != nil || rf < 1 {
		return cfg, fmt.Errorf("kafkasal: %s=%q: want a positive number", EnvReplication, getenv(EnvReplication))
	}
	cfg.ReplicationFactor = int16(rf)
	if _, err := ParseAcks(cfg.Acks); err != nil {
		return cfg, fmt.Errorf("kafkasal: %s=%q: %w", EnvAcks, cfg.Acks, err)
	}
	return cfg, nil
}

// ParseAcks reads acks as salobj's LSST_KAFKA_PRODUCER_WAIT_ACKS and the
// producer's --wait-ack take them: "0", "1" (also "") or "all" ("-1").
func ParseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "", "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	}
	return kgo.Acks{}, errors.New("want 0, 1 or all")
}

// Key is Kafka-era salobj's record key for t at index, byte for byte:
// empty for telemetry (its partitions may be expanded), else
// `{ "name": "<CSC>", "topic": "<sal_name>" }`, with `"index": <index>, `
// before "topic" for an indexed component.
func Key(t *sal.Topic, index int32) []byte {
	switch {
	case t.Kind == sal.Telemetry:
		return []byte{}
	case t.Indexed:
		return fmt.Appendf(nil, `{ "name": "%s", "index": %d, "topic": "%s" }`, t.CSC, index, t.Name)
	}
	return fmt.Appendf(nil, `{ "name": "%s", "topic": "%s" }`, t.CSC, t.Name)
}

// Writer writes the topics it was opened with to Kafka, as a Kafka-era SAL
// component does.
type Writer struct {
	cfg    Config
	log    *slog.Logger
	cl     *kgo.Client
	reg    *sr.Client
	mu     sync.Mutex
	topics map[*sal.Topic]*topic // what Ensure made

	// Produced and Failed count acknowledged and failed records.
	Produced, Failed atomic.Int64
	wg               sync.WaitGroup // records in flight
}

type topic struct {
	name string
	id   int
	pos  struct{ index, snd, rcv, efd, kafka int }
}

// Open starts a Kafka-era component writer as salobj's SalInfo.start
// does: every topic of comps (each component's telemetry, events, commands
// and ackcmd) and then topics (any not among them) is created, those
// missing, and its schema registered, before any write.
func Open(ctx context.Context, cfg Config, comps []*sal.Component, topics ...*sal.Topic) (*Writer, error) {
	if cfg.Subname == "" {
		return nil, fmt.Errorf("kafkasal: no subname (%s)", EnvSubname)
	}
	ack, err := ParseAcks(cfg.Acks)
	if err != nil {
		return nil, fmt.Errorf("kafkasal: acks %q: %w", cfg.Acks, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.RequiredAcks(ack), kgo.ProducerLinger(0)}
	if ack != kgo.AllISRAcks() {
		opts = append(opts, kgo.DisableIdempotentWrite()) // idempotence needs acks=all
	}
	cl, err := kgo.NewClient(append(opts, cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafkasal: kafka client: %w", err)
	}
	reg, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(cfg.RegistryURL)}, cfg.RegistryOpts...)...)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafkasal: registry %s: %w", cfg.RegistryURL, err)
	}
	w := &Writer{cfg: cfg, log: log, cl: cl, reg: reg, topics: map[*sal.Topic]*topic{}}
	var all []*sal.Topic
	for _, c := range comps {
		all = append(all, c.Topics...)
	}
	if err := w.Ensure(ctx, append(all, topics...)...); err != nil {
		cl.Close()
		return nil, err
	}
	return w, nil
}

// Ensure creates the topics the writer does not write yet and registers
// their schemas, as Open does: a component that starts writing a topic
// later (a test stand's writer) makes it first.
func (w *Writer) Ensure(ctx context.Context, topics ...*sal.Topic) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var fresh []*sal.Topic
	for _, t := range topics {
		if w.topics[t] == nil && !slices.Contains(fresh, t) {
			fresh = append(fresh, t)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	made := map[*sal.Topic]*topic{}
	var events, others []string
	for _, t := range fresh {
		tp := &topic{name: t.KafkaTopic(w.cfg.Subname)}
		tp.pos.index = t.FieldIndex("salIndex")
		tp.pos.snd = t.FieldIndex("private_sndStamp")
		tp.pos.rcv = t.FieldIndex("private_rcvStamp")
		tp.pos.efd = t.FieldIndex("private_efdStamp")
		tp.pos.kafka = t.FieldIndex("private_kafkaStamp")
		if t.Kind == sal.Event {
			events = append(events, tp.name)
		} else {
			others = append(others, tp.name)
		}
		made[t] = tp
	}
	rf := max(w.cfg.ReplicationFactor, 1)
	adm := kadm.NewClient(w.cl)
	compact := "compact"
	for _, c := range []struct {
		names   []string
		configs map[string]*string
	}{{events, map[string]*string{"cleanup.policy": &compact}}, {others, nil}} {
		if len(c.names) == 0 {
			continue
		}
		resps, err := adm.CreateTopics(ctx, 1, rf, c.configs, c.names...)
		if err != nil {
			return fmt.Errorf("kafkasal: create topics at %s: %w", strings.Join(w.cfg.Brokers, ","), err)
		}
		for _, r := range resps.Sorted() {
			if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("kafkasal: create topic %s: %w", r.Topic, r.Err)
			}
		}
	}
	if err := w.register(ctx, made); err != nil {
		return err
	}
	maps.Copy(w.topics, made)
	return nil
}

// registrations is how many schemas Ensure registers at once. A
// component has up to a few hundred topics; all 63 CSCs of ts_xml (3348
// topics) start against the embedded Kafka and the project's registry in
// 4-5 s, about 1.3 ms a topic, nearly all of it registrations, which that
// registry stores one by one: more at once was no faster (16: 5-9 s).
const registrations = 4

// register registers the schemas of made, registrations at a time, and
// sets their ids.
func (w *Writer) register(ctx context.Context, made map[*sal.Topic]*topic) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, registrations)
	for t, tp := range made {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			subject := t.Subject(w.cfg.Subname)
			id, err := w.reg.RegisterSchema(ctx, subject, sr.Schema{Schema: t.Schema(), Type: sr.TypeAvro}, -1, -1)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("kafkasal: register %s at %s: %w", subject, w.cfg.RegistryURL, err))
				mu.Unlock()
				cancel()
				return
			}
			tp.id = id
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Publish stamps s as salobj's writer does and produces it without waiting
// for the acknowledgement (a failure is logged and counted). It has the
// shape of mocksal.WriterConfig.Publish: it reports one reader, the
// site's Kafka.
func (w *Writer) Publish(ctx context.Context, s *sal.Sample) (int, error) {
	w.mu.Lock()
	tp := w.topics[s.Topic]
	w.mu.Unlock()
	if tp == nil {
		return 0, fmt.Errorf("kafkasal: %s.%s was not opened", s.Topic.CSC, s.Topic.Name)
	}
	vals := append([]any(nil), s.Values...)
	snd, _ := vals[tp.pos.snd].(float64)
	vals[tp.pos.kafka] = snd
	vals[tp.pos.efd] = sal.UTCFromTAI(snd)
	vals[tp.pos.rcv] = 0.0
	buf := make([]byte, 5, 512)
	binary.BigEndian.PutUint32(buf[1:5], uint32(tp.id))
	buf, err := s.Topic.AppendAvro(buf, &sal.Sample{Topic: s.Topic, Values: vals})
	if err != nil {
		return 0, fmt.Errorf("kafkasal: encode %s: %w", tp.name, err)
	}
	var index int32
	if tp.pos.index >= 0 {
		index, _ = vals[tp.pos.index].(int32)
	}
	w.wg.Add(1)
	w.cl.Produce(context.WithoutCancel(ctx), &kgo.Record{Topic: tp.name, Key: Key(s.Topic, index), Value: buf}, func(r *kgo.Record, err error) {
		defer w.wg.Done()
		if err != nil {
			w.Failed.Add(1)
			w.log.Error("kafkasal: write", "topic", r.Topic, "err", err)
			return
		}
		w.Produced.Add(1)
	})
	return 1, nil
}

// Close flushes the records in flight (until ctx ends) and closes the
// client.
func (w *Writer) Close(ctx context.Context) error {
	err := w.cl.Flush(ctx)
	w.cl.Close()
	w.wg.Wait()
	if err != nil {
		return fmt.Errorf("kafkasal: flush: %w", err)
	}
	return nil
}
