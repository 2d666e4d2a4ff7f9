package producer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
)

// Config configures one producer process (one ts_salkafka container).
type Config struct {
	// Brokers are the Kafka seed brokers, host:port.
	Brokers []string
	// RegistryURL is the schema registry, with transport (http://...).
	RegistryURL string
	// Bus is the DDS data space read from.
	Bus *dds.Bus
	// Interfaces is the loaded SAL interface model.
	Interfaces *sal.Interfaces
	// Components lists CSCs as "CSC" (all indices) or "CSC:index".
	Components []string
	// Domain is the DDS domain id (LSST_DDS_DOMAIN_ID).
	Domain int
	// PartitionPrefix is LSST_DDS_PARTITION_PREFIX.
	PartitionPrefix string
	// Subname is the topic subname (LSST_TOPIC_SUBNAME); "" means "sal".
	Subname string
	// Partitions of each telemetry topic created; 0 means 1.
	Partitions int32
	// ReplicationFactor of each topic created; 0 means 1.
	ReplicationFactor int16
	// Acks is "0", "1" or "all"; "" means "1" as ts_salkafka.
	Acks string
	// NoAutoRegister requires every schema to be registered already (the
	// recommended production setting: schemas change only by review);
	// a missing one is an error at start naming subject and registry.
	NoAutoRegister bool
	// QueueDepth is the DDS read queue depth per topic; 0 means 100.
	QueueDepth int
	// Logger receives the producer's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called once every topic producer has started.
	Ready func()
	// KafkaOpts are extra franz-go options (TLS, SASL, test hooks).
	KafkaOpts []kgo.Opt
}

// Component is a parsed "CSC" or "CSC:index" entry.
type Component struct {
	Name  string
	Index int32 // 0 means every index
}

// ParseComponent parses "CSC" or "CSC:index".
func ParseComponent(s string) (Component, error) {
	name, idx, ok := strings.Cut(strings.TrimSpace(s), ":")
	if name == "" {
		return Component{}, fmt.Errorf("empty CSC name in %q", s)
	}
	c := Component{Name: name}
	if ok {
		n, err := strconv.ParseInt(idx, 10, 32)
		if err != nil || n <= 0 {
			return Component{}, fmt.Errorf("bad index in %q: want CSC:N with N > 0", s)
		}
		c.Index = int32(n)
	}
	return c, nil
}

// Stats are the producer's counters.
type Stats struct {
	Read     atomic.Int64
	Produced atomic.Int64
	Failed   atomic.Int64
}

// Producer forwards samples of its CSCs from the bus to Kafka.
type Producer struct {
	cfg     Config
	log     *slog.Logger
	kafka   *kgo.Client
	reg     *sr.Client
	readers []*topicProducer
	metrics *metrics
	Stats   Stats
}

type topicProducer struct {
	p        *Producer
	topic    *sal.Topic
	kafka    string
	schemaID int
	reader   *dds.Reader
	key      []byte // fixed key, nil when per-sample (indexed, not telemetry)
	pos      struct{ index, snd, rcv, efd, kafka int }
	checker  *QueueChecker
	m        topicMetrics
	size     int // last encoded size, to size the next buffer
}

// Run starts the producer, forwards until ctx ends, then flushes in-flight
// records and returns. It returns an error if start-up fails (unknown CSC,
// registry or broker unreachable).
func Run(ctx context.Context, cfg Config) error {
	p, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// New subscribes to every topic, registers schemas and creates topics. The
// returned producer reads nothing from its queues until Run.
func New(ctx context.Context, cfg Config) (*Producer, error) {
	if cfg.Bus == nil || cfg.Interfaces == nil {
		return nil, errors.New("producer: Bus and Interfaces are required")
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("producer: no Kafka brokers given")
	}
	if cfg.RegistryURL == "" {
		return nil, errors.New("producer: no schema registry URL given")
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	if cfg.ReplicationFactor <= 0 {
		cfg.ReplicationFactor = 1
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	acks, err := parseAcks(cfg.Acks)
	if err != nil {
		return nil, err
	}
	var comps []Component
	for _, s := range cfg.Components {
		c, err := ParseComponent(s)
		if err != nil {
			return nil, fmt.Errorf("producer: %w", err)
		}
		if cfg.Interfaces.Component(c.Name) == nil {
			return nil, fmt.Errorf("producer: unknown CSC %q (not in the loaded interfaces)", c.Name)
		}
		comps = append(comps, c)
	}
	if len(comps) == 0 {
		return nil, errors.New("producer: no CSCs given")
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
	if acks != kgo.AllISRAcks() {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	opts = append(opts, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("producer: kafka client: %w", err)
	}
	reg, err := sr.NewClient(sr.URLs(cfg.RegistryURL))
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("producer: registry client for %s: %w", cfg.RegistryURL, err)
	}
	p := &Producer{cfg: cfg, log: log, kafka: cl, reg: reg, metrics: newMetrics()}
	if err := p.setup(ctx, comps); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func parseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "", "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	}
	return kgo.Acks{}, fmt.Errorf("producer: wait-ack %q: want 0, 1 or all", s)
}

// setup registers schemas, creates topics and subscribes readers for every
// topic of every component. Topics of a component are created in two
// requests (telemetry, and the compacted rest) rather than one per topic.
func (p *Producer) setup(ctx context.Context, comps []Component) error {
	adm := kadm.NewClient(p.kafka)
	for _, c := range comps {
		comp := p.cfg.Interfaces.Component(c.Name)
		var telemetry, other []string
		for _, t := range comp.Topics {
			depth := p.cfg.QueueDepth
			if depth <= 0 {
				depth = dds.DefaultQueueDepth
			}
			tp := &topicProducer{p: p, topic: t, kafka: t.KafkaTopic(p.cfg.Subname),
				checker: NewQueueChecker(t.AttrName(), depth, p.log), m: p.metrics.topic(t.CSC, t.Name)}
			tp.pos.index = t.FieldIndex("salIndex")
			tp.pos.snd = t.FieldIndex("private_sndStamp")
			tp.pos.rcv = t.FieldIndex("private_rcvStamp")
			tp.pos.efd = t.FieldIndex("private_efdStamp")
			tp.pos.kafka = t.FieldIndex("private_kafkaStamp")
			if t.Kind == sal.Telemetry {
				tp.key = []byte{}
				telemetry = append(telemetry, tp.kafka)
			} else {
				other = append(other, tp.kafka)
				if !t.Indexed {
					tp.key = recordKey(t, 0, false)
				}
			}
			id, err := p.schemaID(ctx, t)
			if err != nil {
				return err
			}
			tp.schemaID = id
			r, err := p.cfg.Bus.Subscribe(dds.ReaderConfig{
				Domain: p.cfg.Domain, PartitionPrefix: p.cfg.PartitionPrefix,
				Topic: t, Index: c.Index, Depth: p.cfg.QueueDepth,
			})
			if err != nil {
				return fmt.Errorf("producer: subscribe %s: %w", t.Name, err)
			}
			tp.reader = r
			p.readers = append(p.readers, tp)
		}
		compact := "compact"
		if err := p.createTopics(ctx, adm, p.cfg.Partitions, nil, telemetry); err != nil {
			return err
		}
		if err := p.createTopics(ctx, adm, 1, map[string]*string{"cleanup.policy": &compact}, other); err != nil {
			return err
		}
		p.log.Info("producer: component ready", "csc", c.Name, "index", c.Index, "topics", len(comp.Topics), "domain", p.cfg.Domain)
	}
	return nil
}

// schemaID registers t's schema, or with NoAutoRegister looks it up.
func (p *Producer) schemaID(ctx context.Context, t *sal.Topic) (int, error) {
	subject := t.Subject(p.cfg.Subname)
	schema := sr.Schema{Schema: t.Schema(), Type: sr.TypeAvro}
	if !p.cfg.NoAutoRegister {
		id, err := p.reg.RegisterSchema(ctx, subject, schema, -1, -1)
		if err != nil {
			return 0, fmt.Errorf("producer: register %s at %s: %w", subject, p.cfg.RegistryURL, err)
		}
		return id, nil
	}
	ss, err := p.reg.LookupSchema(ctx, subject, schema)
	if err != nil {
		return 0, fmt.Errorf("producer: schema of %s is not registered at %s (auto-registration is off; register it first): %w", subject, p.cfg.RegistryURL, err)
	}
	return ss.ID, nil
}

// createTopics creates topics before their first record: telemetry with
// the configured partitions; events and the rest compacted with one
// partition, as Kafka-era salobj does. Existing topics are left alone.
func (p *Producer) createTopics(ctx context.Context, adm *kadm.Client, partitions int32, configs map[string]*string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.CreateTopics(ctx, partitions, p.cfg.ReplicationFactor, configs, names...)
	if err != nil {
		return fmt.Errorf("producer: create topics: %w", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("producer: create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// recordKey is Kafka-era salobj's key for non-telemetry records.
func recordKey(t *sal.Topic, index int32, indexed bool) []byte {
	k := struct {
		Name  string `json:"name"`
		Topic string `json:"topic"`
		Index *int32 `json:"index,omitempty"`
	}{Name: t.CSC, Topic: t.Name}
	if indexed {
		k.Index = &index
	}
	b, _ := json.Marshal(k)
	return b
}

// Run forwards samples until ctx ends, then flushes and closes.
func (p *Producer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, tp := range p.readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tp.run(ctx)
		}()
	}
	if p.cfg.Ready != nil {
		p.cfg.Ready()
	}
	wg.Wait()
	p.close()
	return nil
}

func (p *Producer) close() {
	for _, tp := range p.readers {
		if tp.reader != nil {
			tp.reader.Close()
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if err := p.kafka.Flush(fctx); err != nil {
		p.log.Error("producer: flush at shutdown", "err", err)
	}
	p.kafka.Close()
}

func (tp *topicProducer) run(ctx context.Context) {
	p := tp.p
	var vals []any
	for {
		s, rcv, err := tp.reader.Read(ctx)
		if err != nil {
			return
		}
		p.Stats.Read.Add(1)
		tp.m.read.Inc()
		queued := tp.reader.Len()
		tp.m.depth.Set(float64(queued))
		tp.checker.Check(queued + 1)
		taken := time.Now()
		vals = append(vals[:0], s.Values...)
		snd, _ := vals[tp.pos.snd].(float64)
		vals[tp.pos.rcv] = rcv
		vals[tp.pos.efd] = sal.UTCFromTAI(snd)
		vals[tp.pos.kafka] = sal.TAINow()
		buf := make([]byte, 5, 5+tp.size+tp.size/8)
		binary.BigEndian.PutUint32(buf[1:5], uint32(tp.schemaID))
		buf, err = tp.topic.AppendAvro(buf, &sal.Sample{Topic: tp.topic, Values: vals})
		if err != nil {
			p.Stats.Failed.Add(1)
			tp.m.failed.Inc()
			p.log.Error("producer: encode", "topic", tp.kafka, "err", err)
			continue
		}
		tp.size = len(buf)
		key := tp.key
		if key == nil {
			idx, _ := vals[tp.pos.index].(int32)
			key = recordKey(tp.topic, idx, true)
		}
		rec := &kgo.Record{Topic: tp.kafka, Key: key, Value: buf}
		p.kafka.Produce(context.WithoutCancel(ctx), rec, func(r *kgo.Record, err error) {
			if err != nil {
				p.Stats.Failed.Add(1)
				tp.m.failed.Inc()
				p.log.Error("producer: produce", "topic", r.Topic, "err", err)
				return
			}
			p.Stats.Produced.Add(1)
			tp.m.produced.Inc()
			took := time.Since(taken)
			p.metrics.observe(tp.m, took)
			if took > slowAck {
				p.log.Warn("producer: slow acknowledgement", "topic", r.Topic, "took", took)
			}
		})
	}
}

// slowAck is when Kafka-era salobj warns about an acknowledgement.
const slowAck = 100 * time.Millisecond

// flushTimeout bounds the flush of in-flight records at shutdown
// (ts_salkafka stops within 5 s of SIGTERM).
const flushTimeout = 5 * time.Second
