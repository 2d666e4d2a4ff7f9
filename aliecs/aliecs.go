package aliecs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/lsst-ts/teststand/aliecs/eventspb"
)

// Topics AliECS publishes to.
const (
	TopicEnvironment = "aliecs.environment"
	TopicRun         = "aliecs.run"
)

// Config configures a Publisher.
type Config struct {
	Brokers []string
	// Name is the publisher's identity in every event (Event.publisher).
	Name string
	// RelyOnAutoCreate leaves topic creation to the broker, as AliECS's
	// producer does: each event is written once, and an event refused
	// (the broker's first answer for a topic it is creating) is logged
	// and dropped. The default creates topics first, so nothing is lost.
	RelyOnAutoCreate bool
	Logger           *slog.Logger
	KafkaOpts        []kgo.Opt
}

// Stats count what a Publisher did.
type Stats struct {
	Published, Dropped atomic.Int64
}

// Publisher writes events.
type Publisher struct {
	cfg   Config
	kafka *kgo.Client
	adm   *kadm.Client
	seq   atomic.Uint64
	Stats Stats

	mu      sync.Mutex
	created map[string]bool
}

// NewPublisher connects (lazily).
func NewPublisher(cfg Config) (*Publisher, error) {
	if len(cfg.Brokers) == 0 || cfg.Name == "" {
		return nil, errors.New("aliecs: brokers and a publisher name are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ProducerLinger(0)}
	if cfg.RelyOnAutoCreate {
		// One try, as a fire-and-forget producer makes: a record the
		// broker refuses is not tried again.
		opts = append(opts, kgo.AllowAutoTopicCreation(), kgo.RecordRetries(0), kgo.UnknownTopicRetries(0))
	}
	cl, err := kgo.NewClient(append(opts, cfg.KafkaOpts...)...)
	if err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg, kafka: cl, adm: kadm.NewClient(cl), created: map[string]bool{}}, nil
}

// Close closes the client.
func (p *Publisher) Close() { p.kafka.Close() }

// Publish stamps an event (time, publisher, next sequence) and writes it.
// It returns the event's sequence. With RelyOnAutoCreate a refused write
// is dropped: counted, logged, and not an error, as AliECS's producer
// treats it.
func (p *Publisher) Publish(ctx context.Context, topic string, ev *eventspb.Event) (uint64, error) {
	if !p.cfg.RelyOnAutoCreate {
		if err := p.ensure(ctx, topic); err != nil {
			return 0, err
		}
	}
	now := time.Now()
	ev.Timestamp, ev.TimestampNano = now.UnixMilli(), now.UnixNano()
	ev.Publisher, ev.Sequence = p.cfg.Name, p.seq.Add(1)
	b, err := proto.Marshal(ev)
	if err != nil {
		return 0, err
	}
	err = p.kafka.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: b}).FirstErr()
	switch {
	case err == nil:
		p.Stats.Published.Add(1)
	case p.cfg.RelyOnAutoCreate && ctx.Err() == nil:
		p.Stats.Dropped.Add(1)
		p.cfg.Logger.Warn("aliecs: event dropped", "topic", topic, "sequence", ev.Sequence, "err", err)
	default:
		return ev.Sequence, fmt.Errorf("aliecs: publish to %s: %w", topic, err)
	}
	return ev.Sequence, nil
}

func (p *Publisher) ensure(ctx context.Context, topic string) error {
	p.mu.Lock()
	done := p.created[topic]
	p.mu.Unlock()
	if done {
		return nil
	}
	res, err := p.adm.CreateTopic(ctx, 1, -1, nil, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("aliecs: create %s: %w", topic, err)
	}
	p.mu.Lock()
	p.created[topic] = true
	p.mu.Unlock()
	return nil
}

// RunEvent is a run's transition event.
func RunEvent(env string, run uint32, state string) *eventspb.Event {
	return &eventspb.Event{Payload: &eventspb.Event_RunEvent{RunEvent: &eventspb.Ev_RunEvent{
		EnvironmentId: env, RunNumber: run, State: state, Transition: "START_ACTIVITY", TransitionStatus: eventspb.OpStatus_DONE_OK,
	}}}
}

// EnvironmentEvent is an environment's state event.
func EnvironmentEvent(env, state string, run uint32) *eventspb.Event {
	return &eventspb.Event{Payload: &eventspb.Event_EnvironmentEvent{EnvironmentEvent: &eventspb.Ev_EnvironmentEvent{
		EnvironmentId: env, State: state, CurrentRunNumber: run, TransitionStatus: eventspb.OpStatus_DONE_OK,
	}}}
}

// Decode reads one message.
func Decode(b []byte) (*eventspb.Event, error) {
	ev := &eventspb.Event{}
	if err := proto.Unmarshal(b, ev); err != nil {
		return nil, fmt.Errorf("aliecs: not an event: %w", err)
	}
	return ev, nil
}
