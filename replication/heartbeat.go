package replication

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Heartbeat is one record of MM2's heartbeats topic. Its bytes are MM2's:
// the key is the two aliases as Kafka protocol strings (int16 length, then
// UTF-8), the value a version (int16, 0) and the timestamp in ms (int64),
// all big-endian. Downstream tools that read MM2's heartbeats read ours.
type Heartbeat struct {
	SourceAlias, TargetAlias string
	Timestamp                time.Time
}

// Key is the heartbeat's record key.
func (h Heartbeat) Key() []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(h.SourceAlias)))
	b = append(b, h.SourceAlias...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.TargetAlias)))
	return append(b, h.TargetAlias...)
}

// Value is the heartbeat's record value.
func (h Heartbeat) Value() []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	return binary.BigEndian.AppendUint64(b, uint64(h.Timestamp.UnixMilli()))
}

// ParseHeartbeat decodes a heartbeats record.
func ParseHeartbeat(key, value []byte) (Heartbeat, error) {
	var h Heartbeat
	str := func(b []byte) (string, []byte, error) {
		if len(b) < 2 {
			return "", nil, errors.New("heartbeat key: short string length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return "", nil, errors.New("heartbeat key: short string")
		}
		return string(b[2 : 2+n]), b[2+n:], nil
	}
	var err error
	if h.SourceAlias, key, err = str(key); err != nil {
		return h, err
	}
	if h.TargetAlias, key, err = str(key); err != nil {
		return h, err
	}
	if len(key) != 0 {
		return h, errors.New("heartbeat key: trailing bytes")
	}
	if len(value) != 10 {
		return h, fmt.Errorf("heartbeat value: %d bytes, want 10", len(value))
	}
	if v := binary.BigEndian.Uint16(value); v != 0 {
		return h, fmt.Errorf("heartbeat value: version %d, want 0", v)
	}
	h.Timestamp = time.UnixMilli(int64(binary.BigEndian.Uint64(value[2:])))
	return h, nil
}

// HeartbeatConfig configures the heartbeats of the pair source → target,
// which MM2's MirrorHeartbeatConnector writes into the target cluster.
type HeartbeatConfig struct {
	SourceAlias, TargetAlias string
	// TargetBrokers are the seed brokers of the cluster written to.
	TargetBrokers []string
	// Interval is emit.heartbeats.interval.seconds; 0 means MM2's 1 s.
	Interval time.Duration
	// Metrics, when set, counts the heartbeats.
	Metrics *Metrics
	Logger  *slog.Logger
	Opts    []kgo.Opt
}

// EmitHeartbeats creates the target's heartbeats topic (one partition,
// compacted, as MM2 does) and writes a heartbeat at once and then every
// interval until ctx ends. Flows replicate the topic whatever their
// filter, so "<source>.heartbeats" at a site shows the link is alive.
func EmitHeartbeats(ctx context.Context, cfg HeartbeatConfig) error {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.TargetBrokers...), kgo.ProducerLinger(0)}, cfg.Opts...)...)
	if err != nil {
		return fmt.Errorf("heartbeats %s->%s: %w", cfg.SourceAlias, cfg.TargetAlias, err)
	}
	defer cl.Close()
	compact := "compact"
	for {
		resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, HeartbeatsTopic)
		if err == nil {
			err = resp.Err
		}
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("heartbeats: create topic; retrying", "target", cfg.TargetAlias, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		h := Heartbeat{SourceAlias: cfg.SourceAlias, TargetAlias: cfg.TargetAlias, Timestamp: time.Now()}
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: HeartbeatsTopic, Key: h.Key(), Value: h.Value(), Timestamp: h.Timestamp}).FirstErr()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Warn("heartbeats: produce", "target", cfg.TargetAlias, "err", err)
		} else if cfg.Metrics != nil {
			cfg.Metrics.beats.WithLabelValues(cfg.SourceAlias, cfg.TargetAlias).Inc()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
