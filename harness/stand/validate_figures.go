package stand

import (
	"fmt"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/producer"
)

// checkFigures refuses every count, rate, scale and interval the stand
// gives that means nothing (a negative count or interval, zero brokers or
// partitions, a zero refresh interval, scale or rate), each at its line
// with its key path. It runs before defaults: a key left out takes its
// default, a key written must mean something. Flows written as MM2
// properties are checked by the properties' parser.
func (s *Stand) checkFigures() error {
	var err error
	check := func(path yamlx.Path, ok bool, want string, got any) {
		if err == nil && !ok && s.given(path) {
			err = fmt.Errorf("%s: %s: want %s, got %v", s.where(path), path, want, got)
		}
	}
	// need is check for a key that must be given.
	need := func(path yamlx.Path, ok bool, want string, got any) {
		if err == nil && !s.given(path) {
			err = fmt.Errorf("%s: %s: not given: want %s", s.where(path), path, want)
		}
		check(path, ok, want, got)
	}
	positive := func(path yamlx.Path, n int64) { check(path, n >= 1, "1 or more", n) }
	domain := func(path yamlx.Path, d int) { check(path, d >= 0 && d <= 232, "a DDS domain, 0 to 232", d) }
	for _, name := range s.SiteNames() {
		site := s.Sites[name]
		if site == nil {
			continue
		}
		k := yamlx.Path{"sites", name, "kafka"}
		check(k.With("brokers"), site.Kafka.Brokers >= 1 && site.Kafka.Brokers <= 9, "1 to 9 brokers", site.Kafka.Brokers)
		positive(k.With("partitions"), int64(site.Kafka.Partitions))
		positive(k.With("replication_factor"), int64(site.Kafka.ReplicationFactor))
	}
	if s.Containers != nil {
		check(yamlx.Path{"containers", "timeout"}, s.Containers.Timeout.Duration > 0, "a positive timeout such as 2m", s.Containers.Timeout)
	}
	for i, p := range s.Producers {
		at := yamlx.Path{"producers", i}
		domain(at.With("domain"), p.Domain)
		positive(at.With("partitions"), int64(p.Partitions))
		positive(at.With("replication_factor"), int64(p.ReplicationFactor))
		// As the producer's own file takes it.
		check(at.With("queue_len"), p.QueueLen >= producer.MinQueueLen, fmt.Sprintf("at least %d (a DDS read queue depth)", producer.MinQueueLen), p.QueueLen)
	}
	for i, f := range s.Replication {
		at := yamlx.Path{"replication", i}
		check(at.With("refresh"), f.Refresh.Duration > 0, "a positive interval such as 500ms", f.Refresh)
		check(at.With("sync_configs"), f.SyncConfigs.Duration >= 0, "an interval of 0 (MM2's 600 s) or more", f.SyncConfigs)
		if f.Heartbeats != nil {
			check(at.With("heartbeats"), f.Heartbeats.Duration >= 0, "an interval of 0 (none) or more", f.Heartbeats)
		}
	}
	for i, k := range s.Sinks {
		at := yamlx.Path{"sinks", i}
		positive(at.With("max_batch"), int64(k.MaxBatch))
		check(at.With("flush_interval"), k.FlushInterval.Duration >= 0, "an interval of 0 (none) or more", k.FlushInterval)
	}
	for i, p := range s.Producers {
		check(yamlx.Path{"producers", i, "registry_wait"}, p.RegistryWait.Duration >= 0, "0 (as long as the producer runs) or more", p.RegistryWait)
	}
	for i, f := range s.Faults {
		at := yamlx.Path{"faults", i}
		check(at.With("delay"), f.Delay.Duration >= 0, "a positive delay such as 100ms", f.Delay)
		check(at.With("bandwidth"), f.Bandwidth >= 0, "a positive rate in KB/s", f.Bandwidth)
		check(at.With("jitter"), f.Jitter.Duration >= 0 && f.Jitter.Duration <= f.Delay.Duration, "a jitter between 0 and the delay", f.Jitter)
		if f.Bandwidth == 0 {
			need(at.With("delay"), f.Delay.Duration > 0, "a positive delay such as 100ms, or a bandwidth", f.Delay)
		}
	}
	for i, t := range s.Traffic {
		at := yamlx.Path{"traffic", i}
		domain(at.With("domain"), t.Domain)
		check(at.With("scale"), t.Scale > 0, "a positive factor (default 1)", t.Scale)
		switch t.Kind {
		case "rest", "protobuf":
			need(at.With("rate"), t.Rate > 0, "a positive rate in Hz", t.Rate)
		}
	}
	return err
}
