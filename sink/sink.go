package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/internal/kgroup"
)

// Config configures one sink (one Telegraf kafka_consumer instance).
type Config struct {
	// Brokers are the Kafka seed brokers.
	Brokers []string
	// Rules map topics to databases and say how records become points;
	// the first matching rule wins. nil means DefaultRules.
	Rules []Rule
	// GroupID is the consumer group; "" means "efdsink" ("efdsink-repairer"
	// in repair mode).
	GroupID string
	// Offset is where a new group starts: "oldest" (default, as
	// Telegraf's) or "newest".
	Offset string
	// RegistryURL is the schema registry that resolves the schema ids of
	// the rules without a Registry of their own; it may be "" when every
	// rule has one. Each registry has a schema cache of its own: ids are
	// per registry, and the same id names different schemas in the
	// local and in a remote registry.
	RegistryURL string
	// RegistryUsername and RegistryPassword are every rule's registry's
	// basic auth (Sasquatch's registries share one user).
	RegistryUsername, RegistryPassword string
	// InfluxURL is the InfluxDB HTTP endpoint.
	InfluxURL string
	// Username and Password authenticate to an InfluxDB 1.x with
	// authentication on (the EFD's INFLUXDB_USER and INFLUXDB_PASSWORD):
	// writes send them as the Token "user:password" /api/v2/write takes,
	// database creation as basic auth.
	Username, Password string
	// Token and Org select InfluxDB 2.x: a rule's database is then a
	// bucket of Org.
	Token, Org string
	// CreateDatabases creates each rule's 1.x database at start when it
	// is missing.
	CreateDatabases bool
	// MaxBatch caps the points of one write; 0 means 5000.
	MaxBatch int
	// Writers is how many writes may be in flight at once; 0 means 2.
	// InfluxDB handles one write request on about one core, and the
	// deployed EFD takes the writes of many Telegraf connectors at once;
	// a poll's records are marked for commit only once all its writes
	// are done.
	Writers int
	// MaxUndelivered caps the records read and not yet written and
	// committed, as Telegraf's max_undelivered_messages does: a poll takes
	// up to that many less those still being written, and writes them in
	// batches of MaxBatch. The next poll is read and decoded while the
	// last one is written. 0 means twice MaxBatch: a batch read while one
	// is written.
	MaxUndelivered int
	// FlushInterval, when set, gathers records for up to that long (or
	// MaxBatch points) before writing; 0 writes what each fetch returned
	// at once. See the package documentation for why 0 is the default.
	FlushInterval time.Duration
	// SchemaWait is how long a schema id the registry answers "not found"
	// for is retried before the record is reported and skipped; 0 means
	// 30 s. A registry that cannot be reached is retried for ever.
	SchemaWait time.Duration
	// TopicRefresh is how often new matching topics are looked for; 0 means 10 s.
	TopicRefresh time.Duration
	// Strict makes Run return a *MismatchError (wrapped) at the first
	// record whose schema does not belong to its topic, instead of
	// counting it and going on; nothing of that poll is written or
	// committed, so a strict sink started again stops at the same record.
	Strict bool
	// Repair runs the sink as Sasquatch's repairer: a group of its own
	// reads every matching topic from the oldest offset, rewrites the
	// points, and Run returns once it reached the end offsets the topics
	// had when it started.
	Repair bool
	// Metrics, when set, receives the sink's metrics; nil means a registry
	// of its own (see Sink.Metrics).
	Metrics *Metrics
	// Logger receives the sink's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called once the sink is consuming.
	Ready func()
	// KafkaOpts are extra franz-go options.
	KafkaOpts []kgo.Opt
}

// Stats are the sink's counters.
type Stats struct {
	Points       atomic.Int64 // written and accepted
	Batches      atomic.Int64
	DecodeErrors atomic.Int64 // records reported and skipped
	WriteErrors  atomic.Int64 // failed writes (retried)
	Rejected     atomic.Int64 // points InfluxDB refused with a 4xx, reported and skipped
	NonFinite    atomic.Int64 // NaN and ±Inf values dropped from points
	// Mismatched are records refused because their schema's full name
	// does not belong to their topic (SchemaBelongs): reported, never
	// written, their offsets committed (they are not retried).
	Mismatched atomic.Int64
}

// Sink consumes topics and writes points.
type Sink struct {
	cfg     Config
	log     *slog.Logger
	kafka   *kgo.Client
	rules   []Rule
	metrics *Metrics
	Stats   Stats

	latMu sync.Mutex
	lat   *hdrhistogram.Histogram // Kafka record timestamp → InfluxDB ack, µs

	mu      sync.Mutex
	influx  map[time.Duration]influxdb2.Client // by precision
	writers map[string]api.WriteAPIBlocking    // by precision and destination
}

// Run consumes and writes until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Validate checks cfg without connecting and returns its compiled rules.
func (cfg Config) Validate() ([]Rule, error) {
	if len(cfg.Brokers) == 0 || cfg.InfluxURL == "" {
		return nil, errors.New("sink: brokers and an InfluxDB URL are required")
	}
	if _, err := url.ParseRequestURI(cfg.InfluxURL); err != nil {
		return nil, fmt.Errorf("sink: InfluxDB URL %q: %w", cfg.InfluxURL, err)
	}
	if cfg.RegistryURL != "" {
		if err := httpURL(cfg.RegistryURL); err != nil {
			return nil, fmt.Errorf("sink: registry URL %q: %w", cfg.RegistryURL, err)
		}
	}
	switch cfg.Offset {
	case "", "oldest", "newest":
	default:
		return nil, fmt.Errorf("sink: offset %q: want oldest or newest", cfg.Offset)
	}
	src := cfg.Rules
	if src == nil {
		src = DefaultRules()
	}
	rules := make([]Rule, len(src))
	copy(rules, src)
	for i := range rules {
		if err := rules[i].compile(i); err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
		if err := rules[i].checkRegistry(i); err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
		if rules[i].Registry == "" && cfg.RegistryURL == "" {
			return nil, fmt.Errorf("sink: rule %d has no registry and there is no registry URL for it", i+1)
		}
	}
	return rules, nil
}

// New validates cfg and creates the clients; nothing blocks.
func New(cfg Config) (*Sink, error) {
	rules, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	if cfg.GroupID == "" {
		cfg.GroupID = "efdsink"
		if cfg.Repair {
			cfg.GroupID += "-repairer"
		}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 5000
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2
	}
	if cfg.SchemaWait <= 0 {
		cfg.SchemaWait = 30 * time.Second
	}
	if cfg.TopicRefresh <= 0 {
		cfg.TopicRefresh = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	m := cfg.Metrics
	if m == nil {
		m = NewMetrics()
	}
	var patterns []string
	for _, r := range rules {
		for _, t := range r.Topics {
			patterns = append(patterns, "^(?:"+strings.TrimSpace(t)+")$")
		}
	}
	start := kgo.NewOffset().AtStart()
	if cfg.Offset == "newest" && !cfg.Repair {
		start = kgo.NewOffset().AtEnd()
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(patterns...),
		kgo.ConsumeResetOffset(start),
		// Sarama's defaults, which Telegraf's kafka_consumer uses: a
		// killed sink's partitions move to another member within 10 s.
		kgo.SessionTimeout(10 * time.Second),
		kgo.HeartbeatInterval(3 * time.Second),
		kgo.MetadataMaxAge(cfg.TopicRefresh),
		kgo.MetadataMinAge(min(cfg.TopicRefresh, 5*time.Second)),
		kgo.FetchMaxWait(100 * time.Millisecond),
		// A fetch returns once 1 MiB is there or the wait is over, not
		// at the first byte: with the summit's thousands of partitions,
		// each fetch carries them all (≤ 100 ms more latency).
		kgo.FetchMinBytes(1 << 20),
	}, kgroup.AtLeastOnce(time.Second, log)...), cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("sink: kafka client: %w", err)
	}
	byURL := map[string]*schemas{}
	for i := range rules {
		u := cmp.Or(rules[i].Registry, strings.TrimRight(cfg.RegistryURL, "/"))
		if byURL[u] == nil {
			if byURL[u], err = newSchemas(u, registryAuth(cfg.RegistryUsername, cfg.RegistryPassword)...); err != nil {
				cl.Close()
				return nil, fmt.Errorf("sink: rule %d: %w", i+1, err)
			}
		}
		rules[i].schemas = byURL[u]
	}
	return &Sink{
		cfg: cfg, log: log, kafka: cl, rules: rules, metrics: m,
		influx: map[time.Duration]influxdb2.Client{}, writers: map[string]api.WriteAPIBlocking{},
		lat: hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3),
	}, nil
}

// Metrics is where the sink's metrics are kept.
func (s *Sink) Metrics() *Metrics { return s.metrics }

// Refresh looks for new matching topics now instead of at the next
// metadata refresh.
func (s *Sink) Refresh() { s.kafka.ForceMetadataRefresh() }

// writer returns the blocking write API of a rule's destination.
func (s *Sink) writer(r *Rule) api.WriteAPIBlocking {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Precision.String() + "|" + r.destName
	if w, ok := s.writers[key]; ok {
		return w
	}
	ic, ok := s.influx[r.Precision]
	if !ok {
		token := s.cfg.Token
		if token == "" && s.cfg.Username != "" {
			token = s.cfg.Username + ":" + s.cfg.Password
		}
		ic = influxdb2.NewClientWithOptions(s.cfg.InfluxURL, token,
			influxdb2.DefaultOptions().SetPrecision(r.Precision).SetHTTPRequestTimeout(30))
		s.influx[r.Precision] = ic
	}
	w := ic.WriteAPIBlocking(s.cfg.Org, r.destName)
	s.writers[key] = w
	return w
}

// item is one decoded record on its way to InfluxDB.
type item struct {
	rec   *kgo.Record
	point *write.Point
	rule  *Rule
}

// Run consumes until ctx ends (in repair mode, until caught up), then
// closes its clients.
func (s *Sink) Run(ctx context.Context) error {
	defer func() {
		s.mu.Lock()
		for _, ic := range s.influx {
			ic.Close()
		}
		s.mu.Unlock()
	}()
	defer s.kafka.Close()
	if s.cfg.CreateDatabases && s.cfg.Token == "" {
		if err := s.createDatabases(ctx); err != nil {
			return err
		}
	}
	var target map[string]map[int32]int64
	if s.cfg.Repair {
		var err error
		if target, err = s.endOffsets(ctx); err != nil {
			return err
		}
		s.log.Info("sink: repairing", "group", s.cfg.GroupID, "partitions", countPartitions(target))
	}
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}
	rctx, stopRate := context.WithCancel(ctx)
	defer stopRate()
	go every.Run(rctx, 5*time.Second, s.metrics.rateFunc(&s.Stats.Points))
	// One goroutine writes while this one reads and decodes the next
	// poll: InfluxDB's acknowledgement of a batch takes as long as
	// decoding one, and the two ran one after the other.
	w := newPipeline(s)
	go w.run(ctx)
	defer w.close()
	for {
		if target != nil {
			w.drain() // a repair decides on what is written
			if caughtUp(w.written(), target) {
				s.log.Info("sink: repair done", "points", s.Stats.Points.Load())
				return s.kafka.CommitMarkedOffsets(context.WithoutCancel(ctx))
			}
		}
		room := w.room(ctx, s.undelivered())
		if ctx.Err() != nil {
			return nil
		}
		recs := s.gather(ctx, room)
		if ctx.Err() != nil {
			return nil
		}
		if len(recs) == 0 {
			continue
		}
		items, err := s.decodeAll(ctx, recs)
		if err != nil {
			if ctx.Err() != nil {
				return nil // ctx ended while waiting for a schema: nothing is marked
			}
			return fmt.Errorf("sink: strict: %w", err) // nothing of this poll is marked
		}
		w.send(recs, items)
	}
}

// pipeline is the sink's writer: it writes the polls it is sent in order,
// then marks their records for commit; a poll is marked only once every
// point of it was written, or refused and reported.
type pipeline struct {
	s    *Sink
	in   chan poll
	quit chan struct{} // closed by close: write what was sent, then stop
	done chan struct{} // closed when run returns

	mu       sync.Mutex
	cond     *sync.Cond
	inflight int                        // records sent and not yet written
	off      map[string]map[int32]int64 // next offset after what was written, by topic and partition
}

type poll struct {
	recs  []*kgo.Record
	items []item
}

func newPipeline(s *Sink) *pipeline {
	p := &pipeline{s: s, in: make(chan poll, 1), quit: make(chan struct{}), done: make(chan struct{}), off: map[string]map[int32]int64{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// run writes what it is sent until close, or until ctx ends (what was
// not written is then not marked).
func (p *pipeline) run(ctx context.Context) {
	defer close(p.done)
	defer func() {
		p.mu.Lock()
		p.inflight = -1 // nothing more is written: room and drain stop waiting
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	for {
		var b poll
		select {
		case b = <-p.in:
		case <-p.quit:
			select {
			case b = <-p.in:
			default:
				return
			}
		case <-ctx.Done():
			return
		}
		if err := p.s.writeAll(ctx, b.items); err != nil {
			return // ctx ended while retrying: nothing of it is marked
		}
		p.s.kafka.MarkCommitRecords(b.recs...)
		p.mu.Lock()
		for _, r := range b.recs {
			if p.off[r.Topic] == nil {
				p.off[r.Topic] = map[int32]int64{}
			}
			p.off[r.Topic][r.Partition] = max(p.off[r.Topic][r.Partition], r.Offset+1)
		}
		p.inflight -= len(b.recs)
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// send hands a decoded poll to the writer (waiting while another waits).
func (p *pipeline) send(recs []*kgo.Record, items []item) {
	p.mu.Lock()
	if p.inflight < 0 {
		p.mu.Unlock()
		return // the writer stopped (ctx ended)
	}
	p.inflight += len(recs)
	p.mu.Unlock()
	select {
	case p.in <- poll{recs, items}:
	case <-p.done:
	}
}

// room waits until fewer than limit records are being written and returns
// how many more a poll may take, or 0 once the writer stopped or ctx
// ended.
func (p *pipeline) room(ctx context.Context, limit int) int {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inflight >= limit && ctx.Err() == nil {
		p.cond.Wait()
	}
	if p.inflight < 0 || ctx.Err() != nil {
		return 0
	}
	return limit - p.inflight
}

// drain waits until everything sent was written (or the writer stopped).
func (p *pipeline) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inflight > 0 {
		p.cond.Wait()
	}
}

// written is the next offset after what was written, by topic and
// partition (a copy).
func (p *pipeline) written() map[string]map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]map[int32]int64, len(p.off))
	for t, ps := range p.off {
		out[t] = maps.Clone(ps)
	}
	return out
}

// close lets the writer finish what it was sent and waits for it.
func (p *pipeline) close() {
	close(p.quit)
	<-p.done
}

// undelivered is how many records may be read and not yet written.
func (s *Sink) undelivered() int {
	if s.cfg.MaxUndelivered > 0 {
		return s.cfg.MaxUndelivered
	}
	return 2 * s.cfg.MaxBatch
}

// gather polls once for up to limit records, or for up to FlushInterval
// when set, and records consumer lag from the high watermarks.
func (s *Sink) gather(ctx context.Context, limit int) []*kgo.Record {
	var recs []*kgo.Record
	var deadline time.Time
	if s.cfg.FlushInterval > 0 {
		deadline = time.Now().Add(s.cfg.FlushInterval)
	}
	for {
		pctx := ctx
		var cancel context.CancelFunc = func() {}
		if !deadline.IsZero() && len(recs) > 0 {
			pctx, cancel = context.WithDeadline(ctx, deadline)
		}
		fetches := s.kafka.PollRecords(pctx, limit-len(recs))
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				s.log.Warn("sink: fetch", "topic", t, "partition", p, "err", err)
			}
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				s.metrics.lag(p.Topic, p.Partition, p.HighWatermark-p.Records[n-1].Offset-1)
			}
			recs = append(recs, p.Records...)
		})
		if deadline.IsZero() || len(recs) >= limit || (len(recs) > 0 && !time.Now().Before(deadline)) {
			return recs
		}
	}
}

// decodeAll turns records into points; a record that cannot be is
// reported with its place and counted, and left out. A record whose
// schema does not belong to its topic is counted apart (Mismatched) and,
// with Config.Strict, ends the poll with its *MismatchError.
func (s *Sink) decodeAll(ctx context.Context, recs []*kgo.Record) ([]item, error) {
	s.prefetchSchemas(ctx, recs)
	items := make([]item, 0, len(recs))
	for _, r := range recs {
		rule := s.ruleFor(r.Topic)
		if rule == nil {
			continue // matched by another rule's regex at the broker only
		}
		p, err := s.decode(ctx, r, rule)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if me, ok := errors.AsType[*MismatchError](err); ok {
				s.Stats.Mismatched.Add(1)
				s.metrics.mismatched.WithLabelValues(r.Topic).Inc()
				s.log.Error("sink: record refused: its schema is not its topic's (schema id resolved in the wrong registry?)",
					"topic", me.Topic, "partition", me.Partition, "offset", me.Offset, "registry", me.Registry,
					"schema_id", me.SchemaID, "schema", me.Schema, "topic_implies", me.Implied)
				if s.cfg.Strict {
					return nil, me
				}
				continue
			}
			s.Stats.DecodeErrors.Add(1)
			s.metrics.decodeErrors.WithLabelValues(r.Topic).Inc()
			s.log.Error("sink: record not written", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			continue
		}
		items = append(items, item{rec: r, point: p, rule: rule})
	}
	return items, nil
}

func (s *Sink) ruleFor(topic string) *Rule {
	for i := range s.rules {
		if s.rules[i].Matches(topic) {
			return &s.rules[i]
		}
	}
	return nil
}

// schemaFetches is how many schema lookups a sink makes at once.
const schemaFetches = 16

// prefetchSchemas looks up, several at once, the schema ids of recs not
// cached yet: a sink starting on the whole summit meets thousands of ids
// in its first polls, and one lookup after the other held the first
// samples of most topics for many seconds. A lookup that fails is left
// to decode, which retries it and says why.
func (s *Sink) prefetchSchemas(ctx context.Context, recs []*kgo.Record) {
	type want struct {
		sc *schemas
		id int
	}
	seen := map[want]bool{}
	var todo []want
	for _, r := range recs {
		rule := s.ruleFor(r.Topic)
		if rule == nil {
			continue
		}
		id, _, err := frameID(r.Value)
		if err != nil {
			continue
		}
		w := want{rule.schemas, id}
		if seen[w] || rule.schemas.cached(id) {
			continue
		}
		seen[w] = true
		todo = append(todo, w)
	}
	if len(todo) < 2 {
		return
	}
	sem := make(chan struct{}, schemaFetches)
	var wg sync.WaitGroup
	for _, w := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.sc.get(ctx, w.id)
		})
	}
	wg.Wait()
}

// decode turns one record into a point. A schema id the registry does not
// know yet (the replicated schema topic can lag the data) is retried for
// SchemaWait; a registry that cannot be reached is retried until it can.
func (s *Sink) decode(ctx context.Context, r *kgo.Record, rule *Rule) (*write.Point, error) {
	id, body, err := frameID(r.Value)
	if err != nil {
		return nil, err
	}
	var sc *schema
	first := time.Now()
	for attempt := 0; ; attempt++ {
		sc, err = rule.schemas.get(ctx, id)
		if err == nil {
			break
		}
		var re *sr.ResponseError
		notFound := errors.As(err, &re) && re.ErrorCode == 40403
		if notFound && time.Since(first) > s.cfg.SchemaWait {
			return nil, fmt.Errorf("schema id %d unknown to the registry %s after %s: %w", id, rule.schemas.url, s.cfg.SchemaWait, err)
		}
		if attempt == 0 || attempt%20 == 0 {
			s.log.Warn("sink: schema not available yet; retrying", "id", id, "registry", rule.schemas.url, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if implied, ok := SchemaBelongs(r.Topic, rule.ReplicationSeparator, sc.measurement); !ok {
		return nil, &MismatchError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Registry: rule.schemas.url, SchemaID: id, Schema: sc.measurement, Implied: implied}
	}
	p, st, err := decodeBody(sc, rule, body)
	if st.nonFinite > 0 {
		s.Stats.NonFinite.Add(int64(st.nonFinite))
		s.metrics.nonFinite.WithLabelValues(r.Topic).Add(float64(st.nonFinite))
	}
	if err != nil {
		return nil, fmt.Errorf("schema id %d of %s: %w", id, rule.schemas.url, err)
	}
	return p, nil
}

// decodeBody decodes an Avro body with its schema into the rule's point.
func decodeBody(sc *schema, rule *Rule, body []byte) (*write.Point, pointStats, error) {
	var st pointStats
	native, rest, err := sc.codec.NativeFromBinary(body)
	if err != nil {
		return nil, st, fmt.Errorf("decode: %w", err)
	}
	if len(rest) > 0 {
		// A value holds one datum: bytes left over mean it was written
		// with another schema than the one its id names here.
		return nil, st, fmt.Errorf("(%s) decodes %d of %d bytes: written with another schema", sc.measurement, len(body)-len(rest), len(body))
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, st, fmt.Errorf("not a record")
	}
	p, err := rule.toPoint(sc.measurement, rec, &st)
	return p, st, err
}

// writeAll writes items by destination in batches of at most MaxBatch,
// up to Writers of them at once (a poll of fewer than Writers×MaxBatch
// points is split in Writers batches, down to minSplit points each). It
// returns only when every point was accepted or reported as refused, or
// ctx ended.
func (s *Sink) writeAll(ctx context.Context, items []item) error {
	byDest := map[*Rule][]item{}
	var order []*Rule
	for _, it := range items {
		if _, ok := byDest[it.rule]; !ok {
			order = append(order, it.rule)
		}
		byDest[it.rule] = append(byDest[it.rule], it)
	}
	type batch struct {
		r    *Rule
		list []item
	}
	var batches []batch
	for _, r := range order {
		list := byDest[r]
		size := min(s.cfg.MaxBatch, max(minSplit, (len(list)+s.cfg.Writers-1)/s.cfg.Writers))
		for len(list) > 0 {
			n := min(len(list), size)
			batches = append(batches, batch{r, list[:n]})
			list = list[n:]
		}
	}
	if len(batches) == 1 {
		return s.writeBatch(ctx, batches[0].r, batches[0].list)
	}
	sem := make(chan struct{}, s.cfg.Writers)
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.writeBatch(ctx, b.r, b.list)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// minSplit is the fewest points a batch is split down to for concurrent
// writes: smaller writes cost InfluxDB more than they gain.
const minSplit = 500

// writeBatch writes one batch, retrying with backoff on server errors and
// timeouts, and on a refusal of the sink's credentials (401, 403), which
// is no point's fault: nothing is skipped for it. Another client error
// (4xx) is split in halves until the points InfluxDB refuses are alone;
// each is reported with its topic, partition and offset and skipped, the
// rest is written.
func (s *Sink) writeBatch(ctx context.Context, r *Rule, batch []item) error {
	points := make([]*write.Point, len(batch))
	for i, it := range batch {
		points[i] = it.point
	}
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := s.writer(r).WritePoint(ctx, points...)
		if err == nil {
			acked := time.Now()
			s.metrics.batch(r.destName, len(points), acked.Sub(start))
			s.observe(batch, acked)
			s.Stats.Points.Add(int64(len(points)))
			s.Stats.Batches.Add(1)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Stats.WriteErrors.Add(1)
		var he *ihttp.Error
		auth := errors.As(err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden)
		if errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 && !auth &&
			he.StatusCode != http.StatusTooManyRequests && he.StatusCode != http.StatusRequestTimeout {
			if len(batch) == 1 {
				it := batch[0]
				s.Stats.Rejected.Add(1)
				s.metrics.rejected.WithLabelValues(it.rec.Topic).Inc()
				s.log.Error("sink: InfluxDB refused a point; skipped", "topic", it.rec.Topic, "partition", it.rec.Partition,
					"offset", it.rec.Offset, "point", write.PointToLineProtocol(it.point, r.Precision), "status", he.StatusCode, "err", he.Message)
				return nil
			}
			half := len(batch) / 2
			if err := s.writeBatch(ctx, r, batch[:half]); err != nil {
				return err
			}
			return s.writeBatch(ctx, r, batch[half:])
		}
		if auth {
			s.log.Error("sink: InfluxDB refused the sink's credentials; retrying", "database", r.destName, "points", len(points),
				"status", he.StatusCode, "user", s.cfg.Username, "backoff", backoff)
		} else {
			s.log.Warn("sink: InfluxDB write failed; retrying", "database", r.destName, "points", len(points), "err", err, "backoff", backoff)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// observe records each point's latency from its Kafka record's timestamp
// (set by the producer, or kept by replication) to InfluxDB's ack.
func (s *Sink) observe(batch []item, acked time.Time) {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	for _, it := range batch {
		d := acked.Sub(it.rec.Timestamp)
		_ = s.lat.RecordValue(max(int64(d/time.Microsecond), 1))
		s.metrics.latency.Observe(d.Seconds())
	}
}

// Latency returns the p50 and p99 of Kafka record timestamp → InfluxDB
// ack so far, and how many points they cover.
func (s *Sink) Latency() (p50, p99 time.Duration, n int64) {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return us(s.lat.ValueAtQuantile(50)), us(s.lat.ValueAtQuantile(99)), s.lat.TotalCount()
}

// createDatabases creates each rule's 1.x database (CREATE DATABASE is a
// no-op for one that exists).
func (s *Sink) createDatabases(ctx context.Context) error {
	seen := map[string]bool{}
	for _, r := range s.rules {
		if seen[r.Database] {
			continue
		}
		seen[r.Database] = true
		form := url.Values{"q": {fmt.Sprintf("CREATE DATABASE %q", r.Database)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.cfg.InfluxURL, "/")+"/query", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if s.cfg.Username != "" {
			req.SetBasicAuth(s.cfg.Username, s.cfg.Password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("sink: create database %s: %w", r.Database, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("sink: create database %s: %s", r.Database, resp.Status)
		}
	}
	return nil
}

// endOffsets are the end offsets of every matching topic now: what a
// repair run has to reach.
func (s *Sink) endOffsets(ctx context.Context) (map[string]map[int32]int64, error) {
	adm := kadm.NewClient(s.kafka)
	td, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("sink: list topics: %w", err)
	}
	var topics []string
	for _, t := range td.Names() {
		if s.ruleFor(t) != nil {
			topics = append(topics, t)
		}
	}
	out := map[string]map[int32]int64{}
	if len(topics) == 0 {
		return out, nil
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("sink: end offsets: %w", err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if out[o.Topic] == nil {
				out[o.Topic] = map[int32]int64{}
			}
			out[o.Topic][o.Partition] = o.Offset
		}
	})
	return out, nil
}

func caughtUp(done, target map[string]map[int32]int64) bool {
	for t, ps := range target {
		for p, end := range ps {
			if done[t][p] < end {
				return false
			}
		}
	}
	return true
}

func countPartitions(m map[string]map[int32]int64) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}
