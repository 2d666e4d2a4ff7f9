package capture

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sink"
)

// KafkaConfig says what to capture from a Kafka cluster.
type KafkaConfig struct {
	// Brokers are the seed brokers; Security how to authenticate (as the
	// SAL Kafka producer does).
	Brokers  []string
	Security kafkasec.Config
	// Topics is a Java regex that must match a topic's whole name
	// (lsst\.sal\..*); internal topics (__*) never match.
	Topics string
	// Registry resolves the schema ids of the topics Remotes does not
	// claim; RegistryUsername and RegistryPassword are its basic auth
	// (and the remote registries').
	Registry                           string
	RegistryUsername, RegistryPassword string
	// Remotes are remote registries by source alias: a replica named
	// <alias><Separator><topic> carries the ids of its source site's
	// registry, which the remote registry of that alias serves.
	Remotes   map[string]string
	Separator string // "" means "."
	// From and To bound the records by their Kafka timestamp: [From,
	// To). A To still to come is waited for (a live capture), then
	// Grace more, for records stamped before To still in flight.
	From, To time.Time
	Grace    time.Duration
	// KafkaOpts are extra franz-go options.
	KafkaOpts []kgo.Opt
	Logger    *slog.Logger
}

// Stats say what a capture recorded.
type Stats struct {
	Samples int
	// Topics are the topics (Kafka topics or measurements) that gave
	// samples, Schemas the schema lines written.
	Topics  []string
	Schemas int
	// First and Last are the times of the first and last sample.
	First, Last time.Time
}

// captured is one record kept for the recording.
type captured struct {
	ts     time.Time
	schema *schemaInfo
	// subject is the registry subject of the sample's topic (topic name
	// strategy, the replica's source topic).
	subject string
	body    []byte
}

// schemaInfo is a registry schema a capture decoded records with.
type schemaInfo struct {
	text       string
	csc, topic string // from its namespace and name
	fullName   string
	codec      *goavro.Codec
}

func (c KafkaConfig) check() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("no Kafka brokers given")
	case c.Topics == "":
		return errors.New("no topic pattern given")
	case c.From.IsZero() || c.To.IsZero():
		return errors.New("no time range given")
	case !c.From.Before(c.To):
		return fmt.Errorf("the range ends (%s) before it starts (%s)", c.To.Format(time.RFC3339Nano), c.From.Format(time.RFC3339Nano))
	}
	return nil
}

// Kafka captures the records of cfg's topics in its time range and
// writes them to w as a recording, in the order of their Kafka
// timestamps (each partition's records in offset order). It writes
// nothing when it fails: a record that is not Avro in the Confluent wire
// format, a schema id a registry cannot answer for (unreachable, or
// unknown), a schema that is not its topic's SAL topic, or a value its
// schema does not decode whole is an error naming the topic, partition
// and offset, and a range that holds no record is one too. Errors in cfg
// itself are *exit.BadInput.
//
// What it captures is held in memory until it is written (a minute of
// the nominal summit is some tens of MB). A partition is read until the
// record before its end offset; the SAL producers are not transactional,
// so that record is never a control record the client hides.
func Kafka(ctx context.Context, cfg KafkaConfig, w io.Writer) (Stats, error) {
	if err := cfg.check(); err != nil {
		return Stats{}, &exit.BadInput{Err: err}
	}
	pattern, err := replication.CompileTopicPattern(cfg.Topics)
	if err != nil {
		return Stats{}, &exit.BadInput{Err: fmt.Errorf("topic pattern: %w", err)}
	}
	// Kafka stamps records to the millisecond: so is the range.
	cfg.From, cfg.To = time.UnixMilli(cfg.From.UnixMilli()), time.UnixMilli(cfg.To.UnixMilli())
	log := cmp.Or(cfg.Logger, slog.Default())
	sec, err := cfg.Security.Opts()
	if err != nil {
		return Stats{}, &exit.BadInput{Err: err}
	}
	// A short metadata age: kadm answers a topic listing from the
	// client's metadata cache when it is younger, and a live capture
	// lists the topics again once its range is over.
	cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.MetadataMinAge(50 * time.Millisecond)}, sec...), cfg.KafkaOpts...)...)
	if err != nil {
		return Stats{}, fmt.Errorf("kafka %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	where := "kafka " + strings.Join(cfg.Brokers, ",")
	if wait := time.Until(cfg.To.Add(cfg.Grace)); wait > 0 {
		// A live capture: the topics are listed once the range is over,
		// so that one created meanwhile (a producer creates a topic
		// before its first record) is in it; a pattern that matches
		// nothing yet is said at once.
		if topics, _, err := matching(ctx, adm, pattern, cfg.Security.Username, where); err != nil {
			return Stats{}, err
		} else if len(topics) == 0 {
			log.Warn("capture: no topic matches the pattern yet", "pattern", cfg.Topics, "at", where)
		}
		log.Info("capture: recording until the range ends", "to", cfg.To.Format(time.RFC3339Nano))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Stats{}, ctx.Err()
		case <-t.C:
		}
	}
	topics, all, err := matching(ctx, adm, pattern, cfg.Security.Username, where)
	if err != nil {
		return Stats{}, err
	}
	if len(topics) == 0 {
		return Stats{}, &exit.BadInput{Err: fmt.Errorf("%s: no topic matches %q (topics there: %s)", where, cfg.Topics, listSome(all))}
	}
	var other []string
	for _, t := range topics {
		if !strings.HasPrefix(sink.BaseTopic(t, cfg.Separator), "lsst.") {
			other = append(other, t)
		}
	}
	if len(other) > 0 {
		// Heartbeats, registry storage: not SAL samples, whatever bytes
		// they start with.
		return Stats{}, &exit.BadInput{Err: fmt.Errorf("%s: %q matches topics that are no SAL topic's (lsst.<subname>.<CSC>.<topic>, or a replica of one): %s; narrow the pattern", where, cfg.Topics, listSome(other))}
	}
	starts, err := offsetsAt(ctx, adm, cfg.From, topics)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", where, err)
	}
	ends, err := offsetsAt(ctx, adm, cfg.To, topics)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", where, err)
	}
	// Read every partition from its start to its end offset.
	assign := map[string]map[int32]kgo.Offset{}
	left := map[string]map[int32]int64{}
	for topic, ps := range starts {
		for p, start := range ps {
			if end := ends[topic][p]; start < end {
				if assign[topic] == nil {
					assign[topic], left[topic] = map[int32]kgo.Offset{}, map[int32]int64{}
				}
				assign[topic][p] = kgo.NewOffset().At(start)
				left[topic][p] = end
			}
		}
	}
	reg := newRegistries(cfg)
	parts := map[partition][]captured{}
	if len(assign) > 0 {
		cl.AddConsumePartitions(assign)
	}
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return Stats{}, err
		}
		var ferr error
		fs.EachError(func(topic string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("%s: reading %s partition %d: %w", where, topic, p, err))
		})
		if ferr != nil {
			return Stats{}, ferr
		}
		var rerr error
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Topic][r.Partition]
			if !ok || rerr != nil {
				return
			}
			if r.Offset >= end-1 { // the partition's last record in the range, or past it (a compacted gap)
				delete(left[r.Topic], r.Partition)
				if len(left[r.Topic]) == 0 {
					delete(left, r.Topic)
				}
			}
			if r.Offset >= end {
				return
			}
			if r.Timestamp.Before(cfg.From) || !r.Timestamp.Before(cfg.To) {
				return // stamped out of the range, if appended in it
			}
			c, err := reg.decode(ctx, r)
			if err != nil {
				rerr = fmt.Errorf("%s: topic %s partition %d offset %d: %w", where, r.Topic, r.Partition, r.Offset, err)
				return
			}
			k := partition{r.Topic, r.Partition}
			parts[k] = append(parts[k], c)
		})
		if rerr != nil {
			return Stats{}, rerr
		}
	}
	if len(parts) == 0 {
		return Stats{}, fmt.Errorf("%s: no record of the %d topics matching %q is stamped from %s to %s", where, len(topics), cfg.Topics,
			cfg.From.UTC().Format(time.RFC3339Nano), cfg.To.UTC().Format(time.RFC3339Nano))
	}
	from, to := cfg.From.UTC(), cfg.To.UTC()
	return write(w, mergeByTime(parts), mocksal.RecordingHeader{
		Source: fmt.Sprintf("%s, topics %s", where, cfg.Topics), From: &from, To: &to,
	})
}

// matching lists the topics pattern matches, and all topics but the
// internal ones.
func matching(ctx context.Context, adm *kadm.Client, pattern *replication.TopicPattern, user, where string) (topics, all []string, err error) {
	listed, err := adm.ListTopics(ctx)
	if err != nil {
		if user != "" {
			// A broker refusing the credentials may just close the
			// connection.
			return nil, nil, fmt.Errorf("%s: listing topics as %s (are the credentials right?): %w", where, user, err)
		}
		return nil, nil, fmt.Errorf("%s: listing topics: %w", where, err)
	}
	for _, t := range listed.Sorted() {
		if t.IsInternal || strings.HasPrefix(t.Topic, "__") {
			continue
		}
		all = append(all, t.Topic)
		if pattern.MatchString(t.Topic) {
			topics = append(topics, t.Topic)
		}
	}
	return topics, all, nil
}

// offsetsAt lists, per partition of topics, the first offset whose
// record is stamped at or after t (the end offset when none is).
func offsetsAt(ctx context.Context, adm *kadm.Client, t time.Time, topics []string) (map[string]map[int32]int64, error) {
	listed, err := adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topics...)
	if err != nil {
		return nil, fmt.Errorf("offsets for %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	out := map[string]map[int32]int64{}
	var errs []error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("offsets of %s partition %d for %s: %w", o.Topic, o.Partition, t.UTC().Format(time.RFC3339Nano), o.Err))
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out, errors.Join(errs...)
}

type partition struct {
	topic string
	p     int32
}

// registries fetch schemas by id, each registry with a cache of its own
// (ids are per registry).
type registries struct {
	cfg     KafkaConfig
	clients map[string]*sr.Client
	by      map[string]map[int]*schemaInfo
}

func newRegistries(cfg KafkaConfig) *registries {
	return &registries{cfg: cfg, clients: map[string]*sr.Client{}, by: map[string]map[int]*schemaInfo{}}
}

// urlFor is the registry serving topic's schema ids: the remote registry
// of the alias a replica's name starts with, else the site's own.
func (r *registries) urlFor(topic string) string {
	sep := cmp.Or(r.cfg.Separator, ".")
	for alias, url := range r.cfg.Remotes {
		if strings.HasPrefix(topic, alias+sep) {
			return url
		}
	}
	return r.cfg.Registry
}

// decode unframes r's value, fetches its schema and checks the value
// decodes whole with it and that the schema is its topic's.
func (r *registries) decode(ctx context.Context, rec *kgo.Record) (captured, error) {
	if len(rec.Value) < 5 || rec.Value[0] != 0 {
		return captured{}, errors.New("not Avro in the Confluent wire format (magic byte 0, 4-byte schema id)")
	}
	id, body := int(binary.BigEndian.Uint32(rec.Value[1:5])), rec.Value[5:]
	url := r.urlFor(rec.Topic)
	if url == "" {
		return captured{}, fmt.Errorf("schema id %d: no registry given to resolve it", id)
	}
	s, err := r.schema(ctx, url, id)
	if err != nil {
		return captured{}, err
	}
	if s.csc == "" {
		return captured{}, fmt.Errorf("schema id %d at %s is %s, not a SAL topic's (lsst.sal.<CSC>.<topic>): only SAL topics replay on DDS", id, url, s.fullName)
	}
	if implied, ok := sink.SchemaBelongs(rec.Topic, r.cfg.Separator, s.fullName); !ok {
		return captured{}, fmt.Errorf("schema id %d at %s is %s, not %s: the id was resolved in another registry than the one it was registered in", id, url, s.fullName, implied)
	}
	_, rest, err := s.codec.NativeFromBinary(body)
	if err != nil {
		return captured{}, fmt.Errorf("decoding with schema id %d at %s (%s): %w", id, url, s.fullName, err)
	}
	if len(rest) > 0 {
		return captured{}, fmt.Errorf("schema id %d at %s (%s) decodes %d of %d bytes: written with another schema", id, url, s.fullName, len(body)-len(rest), len(body))
	}
	return captured{ts: rec.Timestamp, schema: s, subject: sink.BaseTopic(rec.Topic, r.cfg.Separator) + "-value", body: body}, nil
}

func (r *registries) schema(ctx context.Context, url string, id int) (*schemaInfo, error) {
	if s := r.by[url][id]; s != nil {
		return s, nil
	}
	cl := r.clients[url]
	if cl == nil {
		opts := []sr.ClientOpt{sr.URLs(url)}
		if r.cfg.RegistryUsername != "" {
			opts = append(opts, sr.BasicAuth(r.cfg.RegistryUsername, r.cfg.RegistryPassword))
		}
		var err error
		if cl, err = sr.NewClient(opts...); err != nil {
			return nil, fmt.Errorf("registry %s: %w", url, err)
		}
		r.clients[url] = cl
	}
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	got, err := cl.SchemaByID(qctx, id)
	if err != nil {
		return nil, fmt.Errorf("schema id %d at registry %s: %w", id, url, err)
	}
	codec, err := goavro.NewCodec(got.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema id %d at registry %s does not parse: %w", id, url, err)
	}
	var head struct{ Name, Namespace string }
	if err := json.Unmarshal([]byte(got.Schema), &head); err != nil {
		return nil, fmt.Errorf("schema id %d at registry %s: %w", id, url, err)
	}
	s := &schemaInfo{text: got.Schema, codec: codec, fullName: head.Name}
	if head.Namespace != "" {
		s.fullName = head.Namespace + "." + head.Name
	}
	if csc, ok := strings.CutPrefix(head.Namespace, "lsst.sal."); ok && csc != "" && !strings.Contains(csc, ".") && head.Name != "" {
		s.csc, s.topic = csc, head.Name
	}
	if r.by[url] == nil {
		r.by[url] = map[int]*schemaInfo{}
	}
	r.by[url][id] = s
	return s, nil
}

// mergeByTime orders the partitions' records by timestamp, keeping each
// partition's in offset order (a record stamped earlier than the one
// before it stays after it: a replay renumbers a writer's samples in
// recording order, which must be the order it wrote them in).
func mergeByTime(parts map[partition][]captured) []captured {
	h := &mergeHeap{}
	n := 0
	for k, recs := range parts {
		n += len(recs)
		h.items = append(h.items, mergeItem{key: k, recs: recs})
	}
	heap.Init(h)
	out := make([]captured, 0, n)
	for h.Len() > 0 {
		it := &h.items[0]
		out = append(out, it.recs[0])
		if it.recs = it.recs[1:]; len(it.recs) == 0 {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	return out
}

type mergeItem struct {
	key  partition
	recs []captured
}

type mergeHeap struct{ items []mergeItem }

func (h *mergeHeap) Len() int { return len(h.items) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if !a.recs[0].ts.Equal(b.recs[0].ts) {
		return a.recs[0].ts.Before(b.recs[0].ts)
	}
	if a.key.topic != b.key.topic {
		return a.key.topic < b.key.topic
	}
	return a.key.p < b.key.p
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// write writes samples (in order, the first one's time as started) as a
// recording, each under its schema line.
func write(w io.Writer, samples []captured, head mocksal.RecordingHeader) (Stats, error) {
	st := Stats{Samples: len(samples), First: samples[0].ts, Last: samples[len(samples)-1].ts}
	head.Started = st.First
	rw, err := mocksal.NewRecordingWriter(w, head)
	if err != nil {
		return Stats{}, err
	}
	seen := map[string]bool{}
	for _, c := range samples {
		csc, topic := c.schema.csc, c.schema.topic
		n, err := rw.Schema(csc, topic, c.subject, c.schema.text)
		if err != nil {
			return Stats{}, err
		}
		if err := rw.Sample(c.ts.Sub(st.First).Seconds(), n, 0, "", c.body); err != nil {
			return Stats{}, err
		}
		if name := csc + "." + topic; !seen[name] {
			seen[name] = true
			st.Topics = append(st.Topics, "lsst.sal."+name)
		}
		st.Last = maxTime(st.Last, c.ts)
		st.Schemas = max(st.Schemas, n)
	}
	slices.Sort(st.Topics)
	return st, rw.Flush()
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// listSome lists names, at most 10 of them.
func listSome(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(", … (%d in all)", len(names))
	}
	return strings.Join(names, ", ")
}
