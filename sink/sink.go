package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// Config configures one sink (one Telegraf kafka_consumer instance).
type Config struct {
	// Brokers are the Kafka seed brokers.
	Brokers []string
	// Topics are regexes of topics consumed (whole-name match).
	Topics []string
	// GroupID is the consumer group; "" means "efdsink".
	GroupID string
	// RegistryURL is the schema registry that resolves schema ids.
	RegistryURL string
	// InfluxURL is the InfluxDB HTTP endpoint.
	InfluxURL string
	// Database is the InfluxDB 1.x database; "" means "efd".
	Database string
	// RetentionPolicy is the database's retention policy; "" means the default.
	RetentionPolicy string
	// Username and Password authenticate to InfluxDB when set.
	Username, Password string
	// Mapping says how records become points.
	Mapping Mapping
	// TopicRefresh is how often new matching topics are looked for; 0 means 10 s.
	TopicRefresh time.Duration
	// Logger receives the sink's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called once the sink is consuming.
	Ready func()
	// KafkaOpts are extra franz-go options.
	KafkaOpts []kgo.Opt
}

// Stats are the sink's counters.
type Stats struct {
	Points       atomic.Int64
	Batches      atomic.Int64
	DecodeErrors atomic.Int64
	WriteErrors  atomic.Int64
}

// Sink consumes topics and writes points.
type Sink struct {
	cfg     Config
	log     *slog.Logger
	kafka   *kgo.Client
	schemas *schemas
	writer  interface {
		WritePoint(ctx context.Context, point ...*write.Point) error
	}
	influx influxdb2.Client
	Stats  Stats
}

// Run consumes and writes until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// New validates cfg and creates the clients; nothing blocks.
func New(cfg Config) (*Sink, error) {
	if len(cfg.Brokers) == 0 || cfg.RegistryURL == "" || cfg.InfluxURL == "" {
		return nil, errors.New("sink: brokers, registry URL and InfluxDB URL are required")
	}
	if len(cfg.Topics) == 0 {
		return nil, errors.New("sink: no topics given")
	}
	if cfg.GroupID == "" {
		cfg.GroupID = "efdsink"
	}
	if cfg.Database == "" {
		cfg.Database = "efd"
	}
	if cfg.TopicRefresh <= 0 {
		cfg.TopicRefresh = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	patterns := make([]string, len(cfg.Topics))
	for i, t := range cfg.Topics {
		patterns[i] = "^(?:" + strings.TrimSpace(t) + ")$"
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(patterns...),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMaxAge(cfg.TopicRefresh),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("sink: kafka client: %w", err)
	}
	reg, err := sr.NewClient(sr.URLs(cfg.RegistryURL))
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("sink: registry client for %s: %w", cfg.RegistryURL, err)
	}
	opts := influxdb2.DefaultOptions().SetPrecision(time.Microsecond)
	token := ""
	if cfg.Username != "" {
		token = cfg.Username + ":" + cfg.Password
	}
	ic := influxdb2.NewClientWithOptions(cfg.InfluxURL, token, opts)
	bucket := cfg.Database
	if cfg.RetentionPolicy != "" {
		bucket += "/" + cfg.RetentionPolicy
	}
	return &Sink{
		cfg: cfg, log: log, kafka: cl, influx: ic,
		schemas: &schemas{reg: reg, by: map[int]*schema{}},
		writer:  ic.WriteAPIBlocking("", bucket),
	}, nil
}

// Refresh looks for new matching topics now instead of at the next
// metadata refresh.
func (s *Sink) Refresh() { s.kafka.ForceMetadataRefresh() }

// Run consumes until ctx ends, then closes its clients.
func (s *Sink) Run(ctx context.Context) error {
	defer s.influx.Close()
	defer s.kafka.Close()
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}
	for {
		fetches := s.kafka.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.log.Warn("sink: fetch", "topic", t, "partition", p, "err", err)
		})
		var recs []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
		if len(recs) == 0 {
			continue
		}
		points := make([]*write.Point, 0, len(recs))
		for _, r := range recs {
			p, err := s.decode(ctx, r)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.Stats.DecodeErrors.Add(1)
				s.log.Error("sink: record not written", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
				continue
			}
			points = append(points, p)
		}
		if err := s.write(ctx, points); err != nil {
			return nil // ctx ended while retrying: offsets stay uncommitted
		}
		if err := s.kafka.CommitRecords(ctx, recs...); err != nil && ctx.Err() == nil {
			s.log.Warn("sink: commit offsets", "err", err)
		}
	}
}

// decode turns one record into a point, retrying a schema id the registry
// does not know yet (the replicated schema topic can lag the data).
func (s *Sink) decode(ctx context.Context, r *kgo.Record) (*write.Point, error) {
	id, body, err := frameID(r.Value)
	if err != nil {
		return nil, err
	}
	var sc *schema
	for attempt := 0; ; attempt++ {
		sc, err = s.schemas.get(ctx, id)
		if err == nil {
			break
		}
		if attempt == 0 || attempt%20 == 0 {
			s.log.Warn("sink: schema not available yet; retrying", "id", id, "topic", r.Topic, "offset", r.Offset, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	native, _, err := sc.codec.NativeFromBinary(body)
	if err != nil {
		return nil, fmt.Errorf("decode with schema id %d: %w", id, err)
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema id %d is not a record", id)
	}
	return toPoint(sc.measurement, rec, s.cfg.Mapping)
}

// write writes a batch, retrying with backoff until InfluxDB accepts it or
// ctx ends. Nothing is committed before it returns nil.
func (s *Sink) write(ctx context.Context, points []*write.Point) error {
	if len(points) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := s.writer.WritePoint(ctx, points...)
		if err == nil {
			s.Stats.Points.Add(int64(len(points)))
			s.Stats.Batches.Add(1)
			return nil
		}
		s.Stats.WriteErrors.Add(1)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("sink: InfluxDB write failed; retrying", "points", len(points), "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
