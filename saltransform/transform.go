package saltransform

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/sal"
)

// Config configures a Transformer.
type Config struct {
	Brokers     []string
	RegistryURL string
	// RegistryUsername and RegistryPassword are the registry's basic auth.
	RegistryUsername, RegistryPassword string
	// Interfaces is the interface model the text is read with.
	Interfaces *sal.Interfaces
	// CSCs are the subsystems whose text topics are transformed.
	CSCs []string
	// GroupID is the consumer group (default "saltransform").
	GroupID string
	// Partitions and ReplicationFactor are those of the output topics it
	// creates (default 1 and the broker's default).
	Partitions        int32
	ReplicationFactor int16
	Logger            *slog.Logger
	KafkaOpts         []kgo.Opt
	// Ready, if set, is called once the input topics exist and consuming
	// starts.
	Ready func()
}

// Stats count what the transformer did.
type Stats struct {
	// Transformed is messages produced as Avro; Malformed is messages
	// that were not SAL text of a known topic, logged and skipped.
	Transformed, Malformed atomic.Int64
}

// Transformer consumes the text topics of some CSCs and produces Avro.
type Transformer struct {
	cfg   Config
	log   *slog.Logger
	kafka *kgo.Client
	adm   *kadm.Client
	reg   *sr.Client
	Stats Stats

	inputs  []string
	mu      sync.Mutex
	outputs map[*sal.Topic]int // schema id per topic whose output exists
}

// New checks the configuration and connects (lazily).
func New(cfg Config) (*Transformer, error) {
	if len(cfg.Brokers) == 0 || cfg.RegistryURL == "" || cfg.Interfaces == nil || len(cfg.CSCs) == 0 {
		return nil, errors.New("saltransform: brokers, registry, interfaces and CSCs are required")
	}
	var inputs []string
	for _, c := range cfg.CSCs {
		if cfg.Interfaces.Component(c) == nil {
			return nil, fmt.Errorf("saltransform: CSC %q is not among the interfaces", c)
		}
		inputs = append(inputs, InputTopics(c)...)
	}
	if cfg.GroupID == "" {
		cfg.GroupID = "saltransform"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 1
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumeTopics(inputs...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.ProducerLinger(0),
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	ropts := []sr.ClientOpt{sr.URLs(cfg.RegistryURL)}
	if cfg.RegistryUsername != "" {
		ropts = append(ropts, sr.BasicAuth(cfg.RegistryUsername, cfg.RegistryPassword))
	}
	reg, err := sr.NewClient(ropts...)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &Transformer{cfg: cfg, log: cfg.Logger, kafka: cl, adm: kadm.NewClient(cl), reg: reg, inputs: inputs, outputs: map[*sal.Topic]int{}}, nil
}

// createInputs creates the text topics that do not exist yet, as
// kafkaefd's saltransform init did, so that the transformer never waits
// on broker auto-creation.
func (x *Transformer) createInputs(ctx context.Context) error {
	res, err := x.adm.CreateTopics(ctx, x.cfg.Partitions, x.cfg.ReplicationFactor, nil, x.inputs...)
	if err != nil {
		return fmt.Errorf("saltransform: create input topics: %w", err)
	}
	for _, r := range res.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("saltransform: create %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// Run transforms until ctx ends: each fetch's messages are produced, and
// its offsets committed once Kafka acknowledged every output record.
func (x *Transformer) Run(ctx context.Context) error {
	defer x.kafka.Close()
	if err := x.createInputs(ctx); err != nil {
		return err
	}
	x.kafka.ForceMetadataRefresh()
	if x.cfg.Ready != nil {
		x.cfg.Ready()
	}
	for {
		fs := x.kafka.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			x.log.Warn("saltransform: fetch", "topic", topic, "partition", p, "err", err)
		})
		var out []*kgo.Record
		for _, r := range fs.Records() {
			rec, err := x.transform(ctx, r)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				var pe *ParseError
				if errors.As(err, &pe) {
					x.Stats.Malformed.Add(1)
					x.log.Error("saltransform: skipped a message that is not SAL text", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
					continue
				}
				return err
			}
			out = append(out, rec)
		}
		if len(out) > 0 {
			if err := x.kafka.ProduceSync(ctx, out...).FirstErr(); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("saltransform: produce: %w", err)
			}
			x.Stats.Transformed.Add(int64(len(out)))
		}
		if err := x.kafka.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			x.log.Warn("saltransform: commit", "err", err)
		}
	}
}

// transform turns one text message into its Avro record.
func (x *Transformer) transform(ctx context.Context, r *kgo.Record) (*kgo.Record, error) {
	s, err := Parse(x.cfg.Interfaces, string(r.Value))
	if err != nil {
		return nil, err
	}
	t := s.Topic
	if want := InputTopic(t); want != r.Topic {
		return nil, &ParseError{Err: fmt.Errorf("%s.%s belongs on %s, not %s", t.CSC, t.Name, want, r.Topic)}
	}
	snd, _ := s.Get("private_sndStamp").(float64)
	s.Values[t.FieldIndex("private_efdStamp")] = sal.UTCFromTAI(snd)
	s.Values[t.FieldIndex("private_kafkaStamp")] = sal.TAINow()
	id, err := x.output(ctx, t)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 5, 256)
	binary.BigEndian.PutUint32(buf[1:], uint32(id))
	if buf, err = t.AppendAvro(buf, s); err != nil {
		return nil, &ParseError{Err: err}
	}
	return &kgo.Record{Topic: OutputTopic(t), Key: r.Key, Value: buf}, nil
}

// output registers a topic's schema and creates its output topic, once.
func (x *Transformer) output(ctx context.Context, t *sal.Topic) (int, error) {
	x.mu.Lock()
	id, ok := x.outputs[t]
	x.mu.Unlock()
	if ok {
		return id, nil
	}
	topic := OutputTopic(t)
	ss, err := x.reg.CreateSchema(ctx, topic+"-value", sr.Schema{Schema: t.Schema(), Type: sr.TypeAvro})
	if err != nil {
		return 0, fmt.Errorf("saltransform: register %s-value: %w", topic, err)
	}
	res, err := x.adm.CreateTopic(ctx, x.cfg.Partitions, x.cfg.ReplicationFactor, nil, topic)
	if err == nil {
		err = res.Err
	}
	if errors.Is(err, kerr.InvalidTopicException) {
		return 0, fmt.Errorf("saltransform: create %s: %w (Kafka refuses a name that differs from an existing one only in '.' and '_': does %s exist on this cluster?)", topic, err, t.KafkaTopic(""))
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("saltransform: create %s: %w", topic, err)
	}
	x.log.Info("saltransform: output", "topic", topic, "schema id", ss.ID)
	x.mu.Lock()
	x.outputs[t] = ss.ID
	x.mu.Unlock()
	return ss.ID, nil
}
