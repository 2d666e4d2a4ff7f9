package replication

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
)

// Config configures one replication flow, source → target.
type Config struct {
	// SourceAlias and TargetAlias are the cluster aliases ("summit", "usdf").
	SourceAlias, TargetAlias string
	// SourceBrokers and TargetBrokers are seed brokers of each cluster.
	SourceBrokers, TargetBrokers []string
	// Topics and TopicsExclude are MM2's "topics" and "topics.exclude".
	Topics, TopicsExclude []string
	// Policy is "default" or "identity"; Separator is the default policy's
	// separator ("" means ".").
	Policy, Separator string
	// RefreshInterval is refresh.topics.interval.seconds; 0 means MM2's 600 s.
	RefreshInterval time.Duration
	// GroupID is the source consumer group holding progress; "" means
	// "mirror-<source>-<target>".
	GroupID string
	// Logger receives the replicator's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called after the first topic discovery.
	Ready func()
	// SourceOpts and TargetOpts are extra franz-go options per cluster.
	SourceOpts, TargetOpts []kgo.Opt
}

// Stats are the replicator's counters.
type Stats struct {
	Replicated atomic.Int64
	Topics     atomic.Int64
}

// Replicator runs one flow.
type Replicator struct {
	refreshMu sync.Mutex // one discovery at a time

	cfg    Config
	log    *slog.Logger
	policy Policy
	filter *Filter
	src    *kgo.Client
	dst    *kgo.Client
	Stats  Stats

	mu     sync.Mutex
	remote map[string]string // source topic → target topic, for topics consumed
}

// Run replicates until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	r, err := New(cfg)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// New validates cfg and connects clients (lazily; nothing blocks).
func New(cfg Config) (*Replicator, error) {
	if cfg.SourceAlias == "" || cfg.TargetAlias == "" {
		return nil, errors.New("replication: source and target aliases are required")
	}
	if len(cfg.SourceBrokers) == 0 || len(cfg.TargetBrokers) == 0 {
		return nil, fmt.Errorf("replication %s->%s: brokers of both clusters are required", cfg.SourceAlias, cfg.TargetAlias)
	}
	pol, err := NewPolicy(cfg.Policy, cfg.Separator)
	if err != nil {
		return nil, fmt.Errorf("replication %s->%s: %w", cfg.SourceAlias, cfg.TargetAlias, err)
	}
	f, err := NewFilter(cfg.Topics, cfg.TopicsExclude)
	if err != nil {
		return nil, fmt.Errorf("replication %s->%s: %w", cfg.SourceAlias, cfg.TargetAlias, err)
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 600 * time.Second
	}
	if cfg.GroupID == "" {
		cfg.GroupID = "mirror-" + cfg.SourceAlias + "-" + cfg.TargetAlias
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("flow", cfg.SourceAlias+"->"+cfg.TargetAlias)
	src, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.SourceBrokers...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, cfg.SourceOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("replication: source client: %w", err)
	}
	dst, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.TargetBrokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
	}, cfg.TargetOpts...)...)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("replication: target client: %w", err)
	}
	return &Replicator{cfg: cfg, log: log, policy: pol, filter: f, src: src, dst: dst, remote: map[string]string{}}, nil
}

// RemoteTopic is the target name of a source topic under this flow's policy.
func (r *Replicator) RemoteTopic(topic string) string {
	return r.policy.FormatRemoteTopic(r.cfg.SourceAlias, topic)
}

// Replicable reports whether a source topic is replicated by this flow.
func (r *Replicator) Replicable(topic string) bool {
	return !isInternal(topic) && r.filter.Match(topic) && !isCycle(r.policy, topic, r.cfg.TargetAlias)
}

// Run replicates until ctx ends, then closes both clients.
func (r *Replicator) Run(ctx context.Context) error {
	defer r.dst.Close()
	defer r.src.Close()
	if err := r.refresh(ctx); err != nil {
		r.log.Warn("replication: first topic discovery failed; retrying", "err", err)
	}
	if r.cfg.Ready != nil {
		r.cfg.Ready()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.cfg.RefreshInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.refresh(ctx); err != nil && ctx.Err() == nil {
					r.log.Warn("replication: topic discovery", "err", err)
				}
			}
		}
	}()
	err := r.copyLoop(ctx)
	wg.Wait()
	return err
}

// Refresh discovers new source topics now instead of at the next interval
// (a stand calls it after its producers created their topics).
func (r *Replicator) Refresh(ctx context.Context) error { return r.refresh(ctx) }

// refresh discovers source topics, creates their replicas at the target
// with the same partition count and cleanup policy, and starts consuming
// the new ones. A topic is consumed only once its replica exists, so no
// record reaches an auto-created topic.
func (r *Replicator) refresh(ctx context.Context) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	sadm := kadm.NewClient(r.src)
	dadm := kadm.NewClient(r.dst)
	details, err := sadm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list source topics: %w", err)
	}
	var fresh []string
	for _, d := range details.Sorted() {
		if d.Err != nil || !r.Replicable(d.Topic) {
			continue
		}
		r.mu.Lock()
		_, known := r.remote[d.Topic]
		r.mu.Unlock()
		if known {
			continue
		}
		target := r.RemoteTopic(d.Topic)
		configs, err := r.topicConfigs(ctx, sadm, d.Topic)
		if err != nil {
			return err
		}
		resp, err := dadm.CreateTopic(ctx, int32(len(d.Partitions)), -1, configs, target)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create %s at %s: %w", target, r.cfg.TargetAlias, err)
		}
		r.mu.Lock()
		r.remote[d.Topic] = target
		r.mu.Unlock()
		fresh = append(fresh, d.Topic)
		r.log.Debug("replication: topic added", "source", d.Topic, "target", target)
	}
	if len(fresh) > 0 {
		r.Stats.Topics.Add(int64(len(fresh)))
		r.src.AddConsumeTopics(fresh...)
		r.log.Info("replication: consuming new topics", "count", len(fresh))
	}
	return nil
}

// topicConfigs returns the source topic's configs that MM2 would sync.
func (r *Replicator) topicConfigs(ctx context.Context, adm *kadm.Client, topic string) (map[string]*string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", topic, err)
	}
	out := map[string]*string{}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Source != 1 || c.Value == nil { // only DYNAMIC_TOPIC_CONFIG
				continue
			}
			if syncedConfig(c.Key) {
				out[c.Key] = c.Value
			}
		}
	}
	return out, nil
}

// syncedConfig reports whether MM2's DefaultConfigPropertyFilter lets a
// topic property through.
func syncedConfig(key string) bool {
	switch key {
	case "follower.replication.throttled.replicas", "leader.replication.throttled.replicas",
		"message.timestamp.difference.max.ms", "message.timestamp.type", "unclean.leader.election.enable",
		"min.insync.replicas":
		return false
	}
	return true
}

// copyLoop polls the source, produces every record to the target, and
// commits source offsets only after the target acknowledged the batch.
func (r *Replicator) copyLoop(ctx context.Context) error {
	for {
		fetches := r.src.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			r.log.Warn("replication: fetch", "topic", t, "partition", p, "err", err)
		})
		var in, out []*kgo.Record
		fetches.EachRecord(func(rec *kgo.Record) {
			r.mu.Lock()
			target, ok := r.remote[rec.Topic]
			r.mu.Unlock()
			if !ok {
				return
			}
			in = append(in, rec)
			out = append(out, &kgo.Record{
				Topic: target, Partition: rec.Partition, Key: rec.Key, Value: rec.Value,
				Headers: rec.Headers, Timestamp: rec.Timestamp,
			})
		})
		if len(out) == 0 {
			continue
		}
		for {
			err := r.dst.ProduceSync(ctx, out...).FirstErr()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("replication: produce to target failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
		r.Stats.Replicated.Add(int64(len(out)))
		if err := r.src.CommitRecords(ctx, in...); err != nil && ctx.Err() == nil {
			r.log.Warn("replication: commit source offsets", "err", err)
		}
	}
}

// SetReady sets the function called after the first topic discovery; use
// it when the replicator was made with New.
func (r *Replicator) SetReady(f func()) { r.cfg.Ready = f }
