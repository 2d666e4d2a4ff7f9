package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/internal/kgroup"
)

// Config configures one replication flow, source → target.
type Config struct {
	// SourceAlias and TargetAlias are the cluster aliases ("summit", "usdf").
	SourceAlias, TargetAlias string
	// SourceBrokers and TargetBrokers are seed brokers of each cluster.
	SourceBrokers, TargetBrokers []string
	// Topics and TopicsExclude are MM2's "topics" and "topics.exclude".
	Topics, TopicsExclude []string
	// Policy is "default" or "identity"; Separator is the policy's
	// separator ("" means ".").
	Policy, Separator string
	// RefreshInterval is refresh.topics.interval.seconds: how often new
	// topics and new partitions are looked for; 0 means MM2's 600 s.
	RefreshInterval time.Duration
	// SyncConfigsInterval is sync.topic.configs.interval.seconds: how
	// often topic configs are copied again; 0 means MM2's 600 s, and a
	// negative value turns the periodic sync off (configs are still
	// copied when a replica is created).
	SyncConfigsInterval time.Duration
	// GroupID is the source consumer group holding progress; "" means
	// "mirror-<source>-<target>".
	GroupID string
	// CommitInterval is how often progress is committed, in the
	// background (Connect's offset.flush.interval.ms); 0 means 1 s. Only
	// records the target acknowledged are committed, and a failing
	// commit does not stop the copying.
	CommitInterval time.Duration
	// Logger receives the replicator's logs; nil means slog.Default().
	Logger *slog.Logger
	// Ready, when set, is called after the first topic discovery.
	Ready func()
	// Metrics, when set, receives the flow's per-partition metrics; nil
	// means a registry of the replicator's own (see Replicator.Metrics).
	Metrics *Metrics
	// SourceOpts and TargetOpts are extra franz-go options per cluster.
	SourceOpts, TargetOpts []kgo.Opt
}

// Stats are the replicator's counters.
type Stats struct {
	Replicated atomic.Int64
	Topics     atomic.Int64
	Partitions atomic.Int64 // partitions added to existing replicas
	Synced     atomic.Int64 // topic config updates applied at the target
}

// Replicator runs one flow.
type Replicator struct {
	refreshMu sync.Mutex // one discovery at a time

	cfg     Config
	log     *slog.Logger
	flow    *Flow
	src     *kgo.Client
	dst     *kgo.Client
	metrics *Metrics
	Stats   Stats

	mu      sync.Mutex
	remote  map[string]string            // source topic → target topic, for topics consumed
	configs map[string]map[string]string // target topic → configs last set there
}

// Run replicates until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	r, err := New(cfg)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// Validate checks cfg without connecting and returns its flow.
func (cfg Config) Validate() (*Flow, error) {
	if cfg.SourceAlias == "" || cfg.TargetAlias == "" {
		return nil, errors.New("replication: source and target aliases are required")
	}
	name := cfg.SourceAlias + "->" + cfg.TargetAlias
	if cfg.SourceAlias == cfg.TargetAlias {
		return nil, fmt.Errorf("replication %s: source and target are the same cluster", name)
	}
	if len(cfg.SourceBrokers) == 0 || len(cfg.TargetBrokers) == 0 {
		return nil, fmt.Errorf("replication %s: brokers of both clusters are required", name)
	}
	flow, err := NewFlow(cfg.SourceAlias, cfg.TargetAlias, cfg.Topics, cfg.TopicsExclude, cfg.Policy, cfg.Separator)
	if err != nil {
		return nil, fmt.Errorf("replication %s: %w", name, err)
	}
	return flow, nil
}

// New validates cfg and connects clients (lazily; nothing blocks).
func New(cfg Config) (*Replicator, error) {
	flow, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	name := cfg.SourceAlias + "->" + cfg.TargetAlias
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 600 * time.Second
	}
	if cfg.SyncConfigsInterval == 0 {
		cfg.SyncConfigsInterval = 600 * time.Second
	}
	if cfg.GroupID == "" {
		cfg.GroupID = "mirror-" + cfg.SourceAlias + "-" + cfg.TargetAlias
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("flow", name)
	m := cfg.Metrics
	if m == nil {
		m = NewMetrics()
	}
	src, err := kgo.NewClient(append(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.SourceBrokers...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
		// A fetch returns once 1 MiB is there or the wait is over, not
		// at the first byte: with thousands of partitions, each fetch
		// carries them all, and one per record costs more than the copy.
		kgo.FetchMinBytes(1 << 20),
	}, kgroup.AtLeastOnce(cfg.CommitInterval, log)...), cfg.SourceOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("replication %s: source client: %w", name, err)
	}
	dst, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.TargetBrokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
	}, cfg.TargetOpts...)...)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("replication %s: target client: %w", name, err)
	}
	return &Replicator{
		cfg: cfg, log: log, flow: flow, src: src, dst: dst, metrics: m,
		remote: map[string]string{}, configs: map[string]map[string]string{},
	}, nil
}

// Flow is the replicator's topic selection and naming.
func (r *Replicator) Flow() *Flow { return r.flow }

// Metrics is where the replicator's metrics are kept.
func (r *Replicator) Metrics() *Metrics { return r.metrics }

// RemoteTopic is the target name of a source topic under this flow's policy.
func (r *Replicator) RemoteTopic(topic string) string { return r.flow.RemoteTopic(topic) }

// Replicable reports whether a source topic is replicated by this flow.
func (r *Replicator) Replicable(topic string) bool { return r.flow.Replicates(topic) }

// rateInterval is the window of mirror_records_per_second.
var rateInterval = 5 * time.Second

// Run replicates until ctx ends, then closes both clients. Offsets are
// committed only after the target acknowledged, so ending at any moment
// loses nothing: what was copied but not committed is copied again by the
// next run.
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
	periodic := func(d time.Duration, what string, f func(context.Context) error) {
		if d <= 0 {
			return
		}
		wg.Go(func() {
			every.Run(ctx, d, func(ctx context.Context) {
				if err := f(ctx); err != nil && ctx.Err() == nil {
					r.log.Warn("replication: "+what, "err", err)
				}
			})
		})
	}
	periodic(r.cfg.RefreshInterval, "topic discovery", r.refresh)
	periodic(r.cfg.SyncConfigsInterval, "topic config sync", r.syncConfigs)
	last, lastAt := r.Stats.Replicated.Load(), time.Now()
	periodic(rateInterval, "rate", func(context.Context) error {
		n, now := r.Stats.Replicated.Load(), time.Now()
		r.metrics.rate.WithLabelValues(r.cfg.SourceAlias, r.cfg.TargetAlias).Set(float64(n-last) / now.Sub(lastAt).Seconds())
		last, lastAt = n, now
		return nil
	})
	err := r.copyLoop(ctx)
	wg.Wait()
	return err
}

// Refresh discovers new source topics and partitions now instead of at the
// next interval (a stand calls it after its producers created their topics).
func (r *Replicator) Refresh(ctx context.Context) error { return r.refresh(ctx) }

// SyncConfigs copies topic configs to the replicas now.
func (r *Replicator) SyncConfigs(ctx context.Context) error { return r.syncConfigs(ctx) }

// refresh discovers source topics, creates their replicas at the target
// with the same partition count and configs, adds partitions to replicas
// whose source grew, and starts consuming the new topics. A topic is
// consumed only once its replica exists, so no record reaches an
// auto-created topic.
func (r *Replicator) refresh(ctx context.Context) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	sadm := kadm.NewClient(r.src)
	dadm := kadm.NewClient(r.dst)
	details, err := listTopicsNow(ctx, r.src)
	if err != nil {
		return fmt.Errorf("list source topics: %w", err)
	}
	var fresh []string
	var known []string
	for _, d := range details.Sorted() {
		if d.Err != nil || !r.flow.Replicates(d.Topic) {
			continue
		}
		r.mu.Lock()
		_, ok := r.remote[d.Topic]
		r.mu.Unlock()
		if ok {
			known = append(known, d.Topic)
		} else {
			fresh = append(fresh, d.Topic)
		}
	}
	if len(fresh) > 0 {
		configs, err := r.topicConfigs(ctx, sadm, fresh...)
		if err != nil {
			return err
		}
		for _, topic := range fresh {
			target := r.RemoteTopic(topic)
			resp, err := dadm.CreateTopic(ctx, int32(len(details[topic].Partitions)), -1, ptrs(configs[topic]), target)
			if err == nil {
				err = resp.Err
			}
			if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("create %s at %s: %w", target, r.cfg.TargetAlias, err)
			}
			r.mu.Lock()
			r.remote[topic] = target
			if err == nil {
				r.configs[target] = configs[topic]
			}
			r.mu.Unlock()
			r.log.Debug("replication: topic added", "source", topic, "target", target)
		}
		r.Stats.Topics.Add(int64(len(fresh)))
		r.metrics.topics.WithLabelValues(r.cfg.SourceAlias, r.cfg.TargetAlias).Add(float64(len(fresh)))
		r.src.AddConsumeTopics(fresh...)
		r.log.Info("replication: consuming new topics", "count", len(fresh))
	}
	if len(known) > 0 {
		if err := r.growPartitions(ctx, dadm, details, known); err != nil {
			return err
		}
	}
	return nil
}

// listTopicsNow lists a cluster's topics (internal ones left out) from a
// broker's metadata now. kadm's ListTopics may answer from the client's
// metadata cache (up to MetadataMinAge old), and a refresh asked for
// right after another would miss the topics created in between until
// the next periodic one.
func listTopicsNow(ctx context.Context, cl *kgo.Client) (kadm.TopicDetails, error) {
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := kadm.TopicDetails{}
	for _, t := range resp.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		d := kadm.TopicDetail{Topic: *t.Topic, Err: kerr.ErrorForCode(t.ErrorCode), Partitions: kadm.PartitionDetails{}}
		for _, p := range t.Partitions {
			d.Partitions[p.Partition] = kadm.PartitionDetail{Topic: *t.Topic, Partition: p.Partition, Leader: p.Leader, Err: kerr.ErrorForCode(p.ErrorCode)}
		}
		out[*t.Topic] = d
	}
	return out, nil
}

// growPartitions adds partitions to replicas whose source topic has more,
// as MM2 does on refresh: a record's partition is kept, so the replica
// needs every partition the source has.
func (r *Replicator) growPartitions(ctx context.Context, dadm *kadm.Client, src kadm.TopicDetails, topics []string) error {
	targets := make([]string, len(topics))
	for i, t := range topics {
		targets[i] = r.RemoteTopic(t)
	}
	dst, err := dadm.ListTopics(ctx, targets...)
	if err != nil {
		return fmt.Errorf("list target topics: %w", err)
	}
	for i, t := range topics {
		have, want := len(dst[targets[i]].Partitions), len(src[t].Partitions)
		if dst[targets[i]].Err != nil || have >= want {
			continue
		}
		resp, err := dadm.UpdatePartitions(ctx, want, targets[i])
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("grow %s at %s to %d partitions: %w", targets[i], r.cfg.TargetAlias, want, err)
		}
		r.Stats.Partitions.Add(int64(want - have))
		r.dst.ForceMetadataRefresh()
		r.log.Info("replication: partitions added", "target", targets[i], "from", have, "to", want)
	}
	return nil
}

// syncConfigs copies the configs of every replicated topic to its replica
// where they changed since the last sync.
func (r *Replicator) syncConfigs(ctx context.Context) error {
	r.mu.Lock()
	topics := make([]string, 0, len(r.remote))
	for t := range r.remote {
		topics = append(topics, t)
	}
	r.mu.Unlock()
	if len(topics) == 0 {
		return nil
	}
	configs, err := r.topicConfigs(ctx, kadm.NewClient(r.src), topics...)
	if err != nil {
		return err
	}
	dadm := kadm.NewClient(r.dst)
	for _, t := range topics {
		target := r.RemoteTopic(t)
		r.mu.Lock()
		same := maps.Equal(r.configs[target], configs[t])
		r.mu.Unlock()
		if same || len(configs[t]) == 0 {
			continue
		}
		var alter []kadm.AlterConfig
		for k, v := range configs[t] {
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		}
		resp, err := dadm.AlterTopicConfigs(ctx, alter, target)
		for _, a := range resp {
			err = errors.Join(err, a.Err)
		}
		if err != nil {
			return fmt.Errorf("sync configs of %s at %s: %w", target, r.cfg.TargetAlias, err)
		}
		r.mu.Lock()
		r.configs[target] = configs[t]
		r.mu.Unlock()
		r.Stats.Synced.Add(1)
		r.log.Debug("replication: topic configs synced", "target", target)
	}
	return nil
}

// topicConfigs returns, per topic, the source configs that MM2 would sync:
// those set on the topic (not broker defaults), less MM2's excluded ones.
func (r *Replicator) topicConfigs(ctx context.Context, adm *kadm.Client, topics ...string) (map[string]map[string]string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe source topic configs: %w", err)
	}
	out := map[string]map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describe %s: %w", rc.Name, rc.Err)
		}
		m := map[string]string{}
		for _, c := range rc.Configs {
			if c.Source != 1 || c.Value == nil { // only DYNAMIC_TOPIC_CONFIG
				continue
			}
			if SyncedConfig(c.Key) {
				m[c.Key] = *c.Value
			}
		}
		out[rc.Name] = m
	}
	return out, nil
}

func ptrs(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

// SyncedConfig reports whether MM2's DefaultConfigPropertyFilter lets a
// topic property through to the replica.
func SyncedConfig(key string) bool {
	switch key {
	case "follower.replication.throttled.replicas", "leader.replication.throttled.replicas",
		"message.timestamp.difference.max.ms", "message.timestamp.type", "unclean.leader.election.enable",
		"min.insync.replicas":
		return false
	}
	return true
}

// copyLoop polls the source, produces every record to the target, and
// marks source offsets for commit only after the target acknowledged the
// batch.
func (r *Replicator) copyLoop(ctx context.Context) error {
	hwm := map[string]map[int32]int64{}
	for {
		fetches := r.src.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			r.log.Warn("replication: fetch", "topic", t, "partition", p, "err", err)
		})
		var in, out []*kgo.Record
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if hwm[p.Topic] == nil {
				hwm[p.Topic] = map[int32]int64{}
			}
			hwm[p.Topic][p.Partition] = p.HighWatermark
			r.mu.Lock()
			target, ok := r.remote[p.Topic]
			r.mu.Unlock()
			if !ok {
				return
			}
			for _, rec := range p.Records {
				in = append(in, rec)
				out = append(out, &kgo.Record{
					Topic: target, Partition: rec.Partition, Key: rec.Key, Value: rec.Value,
					Headers: rec.Headers, Timestamp: rec.Timestamp,
				})
			}
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
			r.dst.ForceMetadataRefresh() // a partition may have just been added
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
		acked := time.Now()
		r.Stats.Replicated.Add(int64(len(out)))
		r.metrics.observe(r.cfg.SourceAlias, r.cfg.TargetAlias, in, out, hwm, acked)
		r.src.MarkCommitRecords(in...)
	}
}

// SetReady sets the function called after the first topic discovery; use
// it when the replicator was made with New.
func (r *Replicator) SetReady(f func()) { r.cfg.Ready = f }
