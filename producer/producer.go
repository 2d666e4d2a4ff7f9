package producer

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/kafkasal"
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
	// Groups are CSCs from a --file, with their topic sets.
	Groups []Group
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
	// TopicConfigs are set on every topic created (e.g. retention.ms,
	// message.timestamp.type); events, commands and acks are compacted
	// whatever they say.
	TopicConfigs map[string]string
	// Acks is "0", "1" or "all"; "" means "1" as ts_salkafka.
	Acks string
	// Linger is how long a record may wait for others to batch with; 0
	// (the default) sends at once: at summit rates batching buys nothing
	// and costs latency.
	Linger time.Duration
	// Compression is none (default), gzip, snappy, lz4 or zstd.
	Compression string
	// NoAutoRegister requires every schema to be registered already (the
	// recommended production setting: schemas change only by review);
	// a missing one is an error at start naming subject and registry.
	NoAutoRegister bool
	// QueueDepth is the DDS read queue depth per topic; 0 means 100.
	QueueDepth int
	// RegistryWait bounds how long a topic whose registry cannot be
	// reached waits for it, its samples queued in its reader, before the
	// producer gives the topic up (an error logged, its reader closed);
	// 0 waits as long as the producer runs.
	RegistryWait time.Duration
	// Logger receives the producer's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called once every topic producer has started.
	Ready func()
	// Security is how to authenticate to Kafka (Sasquatch's producers are
	// SCRAM-SHA-512 users).
	Security kafkasec.Config
	// RegistryUsername and RegistryPassword are the registry's basic auth.
	RegistryUsername, RegistryPassword string
	// KafkaOpts are extra franz-go options (test hooks).
	KafkaOpts []kgo.Opt
}

// Component is a parsed "CSC" or "CSC:index" entry, with the per-topic
// settings of its --file group if it came from one.
type Component struct {
	Name  string
	Index int32 // 0 means every index
	// Partitions overrides the partitions of topics by sal_name.
	Partitions map[string]int32
	// QueueLen overrides the DDS read queue depth.
	QueueLen int
}

// ParseComponent parses "CSC" or "CSC:index".
func ParseComponent(s string) (Component, error) {
	name, index, err := sal.ParseCSC(s)
	if err != nil {
		return Component{}, err
	}
	return Component{Name: name, Index: index}, nil
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
	metrics *metrics
	Stats   Stats

	mu      sync.Mutex // guards readers, served, runCtx
	readers []*topicProducer
	served  map[string]bool
	runCtx  context.Context
	wg      sync.WaitGroup // topic producers' goroutines
	addMu   sync.Mutex     // serialises hot adds with shutdown
}

type topicProducer struct {
	p        *Producer
	topic    *sal.Topic
	kafka    string
	schemaID int
	// pending is set while the topic's schema waits for a registry that
	// could not be reached: run registers it before it forwards anything,
	// and the topic's samples queue in its reader meanwhile.
	pending      bool
	pendingSince time.Time
	reader       *dds.Reader
	key          []byte // fixed key, nil when per-sample (indexed, not telemetry)
	pos          struct{ index, snd, rcv, efd, kafka int }
	checker      *QueueChecker
	m            topicMetrics
	size         int // last encoded size, to size the next buffer
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
	acks, err := kafkasal.ParseAcks(cfg.Acks)
	if err != nil {
		return nil, fmt.Errorf("producer: wait-ack %q: %w", cfg.Acks, err)
	}
	comps, err := parseComponents(cfg.Interfaces, cfg.Components, cfg.Groups)
	if err != nil {
		return nil, err
	}

	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(cfg.Linger),
		kgo.ProducerBatchCompression(codec),
		// Broker trouble (retries, reconnects) is reported in our log.
		kgo.WithLogger(kslog.New(slog.New(atLeast{log.With("component", "kafka").Handler(), slog.LevelWarn}))),
	}
	if acks != kgo.AllISRAcks() {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	sec, err := cfg.Security.Opts()
	if err != nil {
		return nil, fmt.Errorf("producer: kafka security: %w", err)
	}
	opts = append(append(opts, sec...), cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("producer: kafka client: %w", err)
	}
	srOpts := []sr.ClientOpt{sr.URLs(cfg.RegistryURL)}
	if cfg.RegistryUsername != "" {
		srOpts = append(srOpts, sr.BasicAuth(cfg.RegistryUsername, cfg.RegistryPassword))
	}
	reg, err := sr.NewClient(srOpts...)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("producer: registry client for %s: %w", cfg.RegistryURL, err)
	}
	p := &Producer{cfg: cfg, log: log, kafka: cl, reg: reg, metrics: newMetrics(), served: map[string]bool{}}
	tps, err := p.setup(ctx, comps)
	p.readers = tps
	if err != nil {
		p.close()
		return nil, err
	}
	for _, c := range comps {
		p.served[c.String()] = true
	}
	return p, nil
}

// parseComponents parses "CSC" and "CSC:index" entries and --file groups,
// and checks them against the interfaces.
func parseComponents(ifaces *sal.Interfaces, list []string, groups []Group) ([]Component, error) {
	var comps []Component
	for _, g := range groups {
		list = append(list, g.Component)
	}
	for i, s := range list {
		c, err := ParseComponent(s)
		if err != nil {
			return nil, fmt.Errorf("producer: %w", err)
		}
		if j := i - (len(list) - len(groups)); j >= 0 {
			c.Partitions, c.QueueLen = groups[j].partitions(), groups[j].QueueLen
		}
		comp := ifaces.Component(c.Name)
		if comp == nil {
			return nil, fmt.Errorf("producer: unknown CSC %q (not in the loaded interfaces)", c.Name)
		}
		if c.Index != 0 && !comp.Indexed {
			return nil, fmt.Errorf("producer: %q: %s is not indexed", s, c.Name)
		}
		comps = append(comps, c)
	}
	if len(comps) == 0 {
		return nil, errors.New("producer: no CSCs given")
	}
	return comps, nil
}

// Add starts forwarding more CSCs while the producer runs (hot add). The
// CSCs already served keep running untouched, so none of their samples is
// lost; a CSC already served is left as it is. It returns what was added.
func (p *Producer) Add(ctx context.Context, list ...string) ([]string, error) {
	return p.AddGroups(ctx, list, nil)
}

// AddGroups is Add for names and --file groups.
func (p *Producer) AddGroups(ctx context.Context, list []string, groups []Group) ([]string, error) {
	comps, err := parseComponents(p.cfg.Interfaces, list, groups)
	if err != nil {
		return nil, err
	}
	p.addMu.Lock() // one hot add at a time
	defer p.addMu.Unlock()
	var fresh []Component
	var added []string
	p.mu.Lock()
	for _, c := range comps {
		if !p.served[c.String()] {
			fresh = append(fresh, c)
			added = append(added, c.String())
		}
	}
	p.mu.Unlock()
	if len(fresh) == 0 {
		return nil, nil
	}
	tps, err := p.setup(ctx, fresh)
	if err != nil {
		for _, tp := range tps {
			tp.reader.Close()
		}
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range fresh {
		p.served[c.String()] = true
	}
	p.readers = append(p.readers, tps...)
	if p.runCtx != nil {
		for _, tp := range tps {
			p.start(tp)
		}
	}
	p.log.Info("producer: components added", "components", added)
	return added, nil
}

// Components lists the CSCs served, as "CSC" or "CSC:index".
func (p *Producer) Components() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for c := range p.served {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// String is "CSC" or "CSC:index".
func (c Component) String() string {
	if c.Index == 0 {
		return c.Name
	}
	return c.Name + ":" + strconv.Itoa(int(c.Index))
}

func (p *Producer) topicProducers() []*topicProducer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*topicProducer(nil), p.readers...)
}

func compression(s string) (kgo.CompressionCodec, error) {
	switch s {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("producer: compression %q: want none, gzip, snappy, lz4 or zstd", s)
}

// setup registers schemas, creates topics and subscribes readers for every
// topic of every component. Topics of a component are created in one
// request per kind (partitions, compaction) rather than one per topic.
func (p *Producer) setup(ctx context.Context, comps []Component) (out []*topicProducer, _ error) {
	adm := kadm.NewClient(p.kafka)
	// down is set once the registry could not be reached: the topics
	// after it wait for it without asking again, so that a hot add
	// returns in one request's bound, not one per topic.
	down := false
	for _, c := range comps {
		comp := p.cfg.Interfaces.Component(c.Name)
		type kind struct {
			partitions int32
			compact    bool
		}
		create := map[kind][]string{}
		depth := cmp.Or(c.QueueLen, p.cfg.QueueDepth, dds.DefaultQueueDepth)
		for _, t := range comp.Topics {
			tp := &topicProducer{p: p, topic: t, kafka: t.KafkaTopic(p.cfg.Subname),
				checker: NewQueueChecker(t.AttrName(), depth, p.log), m: p.metrics.topic(t.CSC, t.Name)}
			tp.pos.index = t.FieldIndex("salIndex")
			tp.pos.snd = t.FieldIndex("private_sndStamp")
			tp.pos.rcv = t.FieldIndex("private_rcvStamp")
			tp.pos.efd = t.FieldIndex("private_efdStamp")
			tp.pos.kafka = t.FieldIndex("private_kafkaStamp")
			// Telemetry with the configured partitions; events and the rest
			// compacted with one, as Kafka-era salobj; a --file topic set
			// may give a topic more (never an event).
			k := kind{partitions: cmp.Or(c.Partitions[t.Name], 1)}
			if t.Kind == sal.Telemetry {
				k.partitions = cmp.Or(c.Partitions[t.Name], p.cfg.Partitions)
			} else {
				k.compact = true
			}
			if t.Kind == sal.Telemetry || !t.Indexed {
				tp.key = kafkasal.Key(t, 0)
			}
			create[k] = append(create[k], tp.kafka)
			// The reader first: what the CSC writes while the registry is
			// asked, or waited for, is queued, not missed.
			r, err := p.cfg.Bus.Subscribe(dds.ReaderConfig{
				Domain: p.cfg.Domain, PartitionPrefix: p.cfg.PartitionPrefix,
				Topic: t, Index: c.Index, Depth: depth,
			})
			if err != nil {
				return out, fmt.Errorf("producer: subscribe %s: %w", t.Name, err)
			}
			tp.reader = r
			out = append(out, tp)
			if down {
				tp.pending, tp.pendingSince = true, time.Now()
				continue
			}
			id, err := p.schemaAttempt(ctx, t)
			switch {
			case err != nil && unreachable(err):
				tp.pending, tp.pendingSince, down = true, time.Now(), true
				p.log.Warn("producer: registry unreachable; the component's topics wait for it, their samples queued", "csc", c.String(), "queue", depth, "err", err)
			case err != nil:
				return out, err
			}
			tp.schemaID = id
		}
		for k, names := range create {
			configs := map[string]*string{}
			for key, v := range p.cfg.TopicConfigs {
				configs[key] = &v
			}
			if k.compact {
				compact := "compact"
				configs["cleanup.policy"] = &compact
			}
			if err := p.createTopics(ctx, adm, k.partitions, configs, names); err != nil {
				return out, err
			}
		}
		p.log.Info("producer: component ready", "csc", c.Name, "index", c.Index, "topics", len(comp.Topics), "domain", p.cfg.Domain)
	}
	return out, nil
}

// registryAttempt bounds one request to the registry: one that does not
// answer (blackholed, partitioned) is retried rather than waited on.
const registryAttempt = 5 * time.Second

// schemaAttempt asks the registry for t's schema id once, for at most
// registryAttempt.
func (p *Producer) schemaAttempt(ctx context.Context, t *sal.Topic) (int, error) {
	actx, cancel := context.WithTimeout(ctx, registryAttempt)
	defer cancel()
	id, err := p.schemaID(actx, t)
	if err != nil && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return id, err
}

// unreachable reports whether err says the registry could not be reached
// or failed on its side (no answer, a connection refused, a 5xx), as
// opposed to an answer that refuses the schema.
func unreachable(err error) bool {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// awaitSchema retries the registry for the topic's schema with backoff
// until it answers; false if ctx ended first or the registry refused it.
func (tp *topicProducer) awaitSchema(ctx context.Context) bool {
	p := tp.p
	backoff := 100 * time.Millisecond
	// The wait counts from when the registry was first found unreachable,
	// and bounds the attempts too: one held by the network ends with it.
	wctx := ctx
	if p.cfg.RegistryWait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, tp.pendingSince.Add(p.cfg.RegistryWait))
		defer cancel()
	}
	for {
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				p.log.Error("producer: stopped while the registry was unreachable; the topic's queued samples are not forwarded", "topic", tp.kafka, "queued", tp.reader.Len())
				return false
			}
			p.log.Error("producer: the registry stayed unreachable; the topic is given up, its samples are not forwarded", "topic", tp.kafka, "waited", p.cfg.RegistryWait, "queued", tp.reader.Len())
			tp.reader.Close()
			return false
		case <-time.After(backoff):
		}
		id, err := p.schemaAttempt(wctx, tp.topic)
		if err == nil {
			tp.schemaID, tp.pending = id, false
			p.log.Info("producer: registry reached; the topic forwards its queued samples", "topic", tp.kafka, "queued", tp.reader.Len())
			return true
		}
		if wctx.Err() != nil {
			continue
		}
		if !unreachable(err) {
			p.log.Error("producer: the registry refused the topic's schema; nothing of it is forwarded", "topic", tp.kafka, "err", err)
			return false
		}
		backoff = min(2*backoff, 5*time.Second)
	}
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

// createTopics creates topics before their first record. Existing topics
// are left alone.
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

// Run forwards samples until ctx ends, then flushes and closes.
func (p *Producer) Run(ctx context.Context) error {
	p.mu.Lock()
	p.runCtx = ctx
	for _, tp := range p.readers {
		p.start(tp)
	}
	p.mu.Unlock()
	if p.cfg.Ready != nil {
		p.cfg.Ready()
	}
	<-ctx.Done()
	p.addMu.Lock() // no hot add after this point
	p.wg.Wait()
	p.close()
	p.addMu.Unlock()
	return nil
}

// start runs one topic producer; p.mu is held.
func (p *Producer) start(tp *topicProducer) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tp.run(p.runCtx)
	}()
}

func (p *Producer) close() {
	for _, tp := range p.topicProducers() {
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

// run forwards the topic's samples until ctx ends, then forwards what is
// still queued: samples the reader already took are never dropped at
// shutdown.
func (tp *topicProducer) run(ctx context.Context) {
	if tp.pending && !tp.awaitSchema(ctx) {
		return
	}
	var vals []any
	for {
		s, rcv, err := tp.reader.Read(ctx)
		if err != nil {
			break
		}
		vals = tp.forward(ctx, s, rcv, vals)
	}
	for {
		s, rcv, ok := tp.reader.TryRead()
		if !ok {
			return
		}
		vals = tp.forward(ctx, s, rcv, vals)
	}
}

// forward stamps, encodes and produces one sample; vals is scratch space.
func (tp *topicProducer) forward(ctx context.Context, s *sal.Sample, rcv float64, vals []any) []any {
	p := tp.p
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
	buf, err := tp.topic.AppendAvro(buf, &sal.Sample{Topic: tp.topic, Values: vals})
	if err != nil {
		p.Stats.Failed.Add(1)
		tp.m.failed.Inc()
		p.log.Error("producer: encode", "topic", tp.kafka, "err", err)
		return vals
	}
	tp.size = len(buf)
	key := tp.key
	if key == nil {
		idx, _ := vals[tp.pos.index].(int32)
		key = kafkasal.Key(tp.topic, idx)
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
	return vals
}

// atLeast passes on records of at least a level: franz-go narrates
// routine metadata work at info, which would drown the producer's own.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(a []slog.Attr) slog.Handler { return atLeast{h.Handler.WithAttrs(a), h.min} }
func (h atLeast) WithGroup(n string) slog.Handler      { return atLeast{h.Handler.WithGroup(n), h.min} }

// slowAck is when Kafka-era salobj warns about an acknowledgement.
const slowAck = 100 * time.Millisecond

// flushTimeout bounds the flush of in-flight records at shutdown
// (ts_salkafka stops within 5 s of SIGTERM).
const flushTimeout = 5 * time.Second
