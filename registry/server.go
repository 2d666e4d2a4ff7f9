package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the storage topic of a registry.
const DefaultTopic = "registry-schemas"

// Config configures a registry.
type Config struct {
	// Brokers are the seed brokers of the cluster holding the topic.
	Brokers []string
	// Topic is the storage topic; "" means DefaultTopic.
	Topic string
	// Addr is the listen address; "" means 127.0.0.1:0.
	Addr string
	// ReadOnly serves the topic without writing to it: the remote mode,
	// for a replicated storage topic. Writes get Confluent's error 42205.
	ReadOnly bool
	// Logger receives the registry's logs; nil means slog.Default().
	Logger *slog.Logger
	// KafkaOpts are extra franz-go options.
	KafkaOpts []kgo.Opt
	// Users, when given, are the only clients served: HTTP basic auth,
	// user to password, as Confluent's registry with
	// authentication.method BASIC. Every other request gets 401.
	Users map[string]string
}

// Server is a running registry.
type Server struct {
	cfg   Config
	log   *slog.Logger
	kafka *kgo.Client
	st    *state
	ln    net.Listener
	http  *http.Server
	url   string

	writeMu sync.Mutex // one registration at a time: ids are max+1
	cancel  context.CancelFunc
	done    chan struct{} // closed when the reader exits
	httpErr chan error
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	s.log.Info("registry: serving", "url", s.URL(), "topic", s.cfg.Topic, "read_only", s.cfg.ReadOnly)
	select {
	case <-ctx.Done():
	case err = <-s.httpErr:
	}
	return errors.Join(err, s.Close())
}

// Start connects to Kafka, makes sure the storage topic exists (a writable
// registry creates it compacted with one partition; a read-only one waits
// for it), reads it to its end, and starts serving HTTP.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("registry: no Kafka brokers given")
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("registry: kafka client: %w", err)
	}
	s := &Server{cfg: cfg, log: log, kafka: cl, st: newState(), done: make(chan struct{}), httpErr: make(chan error, 1)}
	end, err := s.prepareTopic(ctx)
	if err != nil {
		cl.Close()
		return nil, err
	}
	// Consume only once the topic exists: a client that looked for it
	// before backs off for up to a second before it looks again.
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {0: kgo.NewOffset().AtStart()}})
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.read(rctx)
	if end > 0 && !s.waitOffset(ctx, end-1) {
		s.Close()
		return nil, fmt.Errorf("registry: reading %s: %w", cfg.Topic, ctx.Err())
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("registry: listen %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.httpErr <- err
		}
	}()
	return s, nil
}

// prepareTopic creates or waits for the storage topic and returns its end
// offset at start.
func (s *Server) prepareTopic(ctx context.Context) (int64, error) {
	adm := kadm.NewClient(s.kafka)
	for {
		ends, err := adm.ListEndOffsets(ctx, s.cfg.Topic)
		if err == nil {
			if o, ok := ends.Lookup(s.cfg.Topic, 0); ok && o.Err == nil {
				return o.Offset, nil
			} else if ok && !errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
				return 0, fmt.Errorf("registry: storage topic %s: %w", s.cfg.Topic, o.Err)
			}
		} else if !errors.Is(err, kerr.UnknownTopicOrPartition) && ctx.Err() == nil {
			s.log.Debug("registry: storage topic not readable yet", "topic", s.cfg.Topic, "err", err)
		}
		if !s.cfg.ReadOnly {
			compact := "compact"
			resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, s.cfg.Topic)
			if err == nil {
				err = resp.Err
			}
			if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
				return 0, fmt.Errorf("registry: create storage topic %s: %w", s.cfg.Topic, err)
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("registry: storage topic %s did not appear: %w", s.cfg.Topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// read is the only writer of the state: it applies every record of the
// storage topic in order.
func (s *Server) read(ctx context.Context) {
	defer close(s.done)
	for {
		fs := s.kafka.PollFetches(ctx)
		if ctx.Err() != nil {
			s.st.mu.Lock()
			s.st.cond.Broadcast()
			s.st.mu.Unlock()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			s.log.Warn("registry: reading storage topic", "topic", t, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if err := s.st.apply(r.Key, r.Value, r.Offset); err != nil {
				s.log.Error("registry: storage record skipped", "topic", r.Topic, "err", err)
			}
		})
	}
}

func (s *Server) waitOffset(ctx context.Context, offset int64) bool {
	stop := make(chan struct{})
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
		case <-finished:
			return
		}
		s.st.mu.Lock()
		close(stop)
		s.st.cond.Broadcast()
		s.st.mu.Unlock()
	}()
	return s.st.waitApplied(offset, stop)
}

// Sync waits until the registry has applied every record the storage
// topic held when Sync was called.
//
// The registry answers from what it has read of the topic. Its own writes
// are read back before they are answered (read your writes), but a record
// another writer put there (a replication flow copying registry-schemas,
// a second registry, a person with a producer) shows only once the reader
// reached it: after Sync returns, Conflicts and every answer include it.
func (s *Server) Sync(ctx context.Context) error {
	end, err := s.endOffset(ctx)
	if err != nil {
		return err
	}
	if end > 0 && !s.waitOffset(ctx, end-1) {
		if ctx.Err() != nil {
			return fmt.Errorf("registry: reading %s to offset %d: %w", s.cfg.Topic, end, ctx.Err())
		}
		return fmt.Errorf("registry: reading %s to offset %d: the registry is closed", s.cfg.Topic, end)
	}
	return nil
}

// endOffset is the storage topic's end offset now.
func (s *Server) endOffset(ctx context.Context) (int64, error) {
	ends, err := kadm.NewClient(s.kafka).ListEndOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return 0, fmt.Errorf("registry: end of %s: %w", s.cfg.Topic, err)
	}
	o, ok := ends.Lookup(s.cfg.Topic, 0)
	if !ok {
		return 0, fmt.Errorf("registry: end of %s: no partition 0 in the answer", s.cfg.Topic)
	}
	if o.Err != nil {
		return 0, fmt.Errorf("registry: end of %s: %w", s.cfg.Topic, o.Err)
	}
	return o.Offset, nil
}

// catchUp is Sync for a write: a registration, delete or config change
// decides from the state (the next id, the versions a subject has), which
// must include what others wrote before it, as Confluent's registry waits
// for its reader to reach the topic's end before it writes.
func (s *Server) catchUp(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return &apiError{http.StatusInternalServerError, 50002, "Timed out waiting for the registry to read its storage topic: " + err.Error()}
	}
	return nil
}

// URL is the registry's base URL.
func (s *Server) URL() string { return s.url }

// Conflicts are the storage records refused because their schema id was
// already another schema's; see Conflict. They are those of the records
// read so far: Sync first to include everything written until now.
func (s *Server) Conflicts() []Conflict {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return append([]Conflict(nil), s.st.conflicts...)
}

// Close stops serving and reading.
func (s *Server) Close() error {
	var err error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = s.http.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.kafka.Close()
	return err
}

// store writes one storage record and waits until the reader applied it,
// so that the answer reflects it (read your writes).
func (s *Server) store(ctx context.Context, key, value any) error {
	k, _ := json.Marshal(key)
	var v []byte
	if value != nil {
		v, _ = json.Marshal(value)
	}
	r, err := s.kafka.ProduceSync(ctx, &kgo.Record{Topic: s.cfg.Topic, Partition: 0, Key: k, Value: v}).First()
	if err != nil {
		return &apiError{http.StatusInternalServerError, 50001, "Error in the backend data store: " + err.Error()}
	}
	if !s.waitOffset(ctx, r.Offset) {
		return &apiError{http.StatusInternalServerError, 50002, "Timed out waiting for the stored record to be read back"}
	}
	return nil
}

// writable refuses writes on a read-only (remote) registry or in mode
// READONLY, with Confluent's error.
func (s *Server) writable() error {
	s.st.mu.RLock()
	mode := s.st.mode
	s.st.mu.RUnlock()
	if s.cfg.ReadOnly || mode == "READONLY" {
		return &apiError{http.StatusUnprocessableEntity, 42205, "Subject is in read-only mode"}
	}
	return nil
}

// register stores schema under subject, or returns the id and version it
// already has there. A new version must pass the subject's compatibility
// level against the earlier live versions.
func (s *Server) register(ctx context.Context, subject, schema string) (id, ver int, err error) {
	if err := s.writable(); err != nil {
		return 0, 0, err
	}
	canon, err := canonicalForm(schema)
	if err != nil {
		return 0, 0, &apiError{http.StatusUnprocessableEntity, 42201, "Invalid schema: " + err.Error()}
	}
	// A schema the subject has already is answered from what was read
	// (records are only added, so what it found stays true), as
	// Confluent's registry does before it forwards a registration to its
	// leader: producers re-register every schema at each start.
	if id, ver, ok := s.registered(subject, canon); ok {
		return id, ver, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.catchUp(ctx); err != nil {
		return 0, 0, err
	}
	s.st.mu.RLock()
	existing, known := s.st.canonical[canon]
	latest := 0
	var earlier []string
	for _, v := range s.st.subjects[subject] {
		latest = max(latest, v.version)
		if v.deleted {
			continue
		}
		if known && v.id == existing {
			s.st.mu.RUnlock()
			return v.id, v.version, nil
		}
		earlier = append(earlier, s.st.schemas[v.id])
	}
	level := s.st.compatibility(subject)
	id = existing
	if !known {
		id = s.st.maxID + 1
	}
	s.st.mu.RUnlock()
	reasons, err := checkCompatible(level, schema, earlier)
	if err != nil {
		return 0, 0, &apiError{http.StatusUnprocessableEntity, 42201, "Invalid schema: " + err.Error()}
	}
	if len(reasons) > 0 {
		return 0, 0, &apiError{http.StatusConflict, 409, fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q; %s", subject, strings.Join(reasons, "; "))}
	}
	ver = latest + 1
	if err := s.store(ctx, schemaKey{KeyType: "SCHEMA", Subject: subject, Version: ver, Magic: 1},
		schemaValue{Subject: subject, Version: ver, ID: id, Schema: schema}); err != nil {
		return 0, 0, err
	}
	s.log.Debug("registry: registered", "subject", subject, "version", ver, "id", id)
	return id, ver, nil
}

// registered returns the live version of subject that is the schema of
// canonical form canon, if the state has one.
func (s *Server) registered(subject, canon string) (id, ver int, ok bool) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	existing, known := s.st.canonical[canon]
	if !known {
		return 0, 0, false
	}
	for _, v := range s.st.subjects[subject] {
		if !v.deleted && v.id == existing {
			return v.id, v.version, true
		}
	}
	return 0, 0, false
}

// apiError is a Confluent error body.
type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) Error() string { return strconv.Itoa(e.code) + ": " + e.msg }
