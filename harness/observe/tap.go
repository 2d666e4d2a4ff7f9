package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/every"
)

// InfluxPoll is how often the InfluxDB tap looks for new points: the
// resolution of "visible in InfluxDB" times.
const InfluxPoll = 10 * time.Millisecond

// sighting is when a tap first saw a sample and how often it saw it.
type sighting struct {
	first time.Time
	count int
	rcv   float64 // private_rcvStamp where the tap reads it
}

// Tap watches one place (a Kafka topic at a cluster, or a measurement in an
// InfluxDB database) for the samples of one writer, identified by
// private_origin and private_seqNum. Kafka taps consume with direct
// partition assignment and no consumer group, so they never take messages
// from the stack.
type Tap struct {
	// Target is the place the tap follows.
	Target Target

	mu        sync.Mutex
	seen      map[int32]*sighting
	reordered int
	lastSeq   map[int32]int32 // per partition
	err       error
	done      chan struct{}
}

// NewTap is a tap at target that has seen nothing; Saw records what it
// sees (KafkaTap and InfluxTap start taps that feed themselves).
func NewTap(target Target) *Tap {
	return &Tap{Target: target, seen: map[int32]*sighting{}, lastSeq: map[int32]int32{}, done: make(chan struct{})}
}

// Saw records that the tap saw seq (in a Kafka partition, or -1) at at,
// with private_rcvStamp rcv.
func (t *Tap) Saw(seq int32, partition int32, rcv float64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.seen[seq]
	if s == nil {
		s = &sighting{first: at, rcv: rcv}
		t.seen[seq] = s
	}
	s.count++
	if partition >= 0 {
		if last, ok := t.lastSeq[partition]; ok && seq < last {
			t.reordered++
		}
		t.lastSeq[partition] = seq
	}
}

// snapshot copies the sightings.
func (t *Tap) snapshot() (map[int32]sighting, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int32]sighting, len(t.seen))
	for k, v := range t.seen {
		out[k] = *v
	}
	return out, t.reordered, t.err
}

// Done is closed once the tap has stopped following.
func (t *Tap) Done() <-chan struct{} { return t.done }

// Err is the tap's last error (an InfluxDB query that failed), or nil.
func (t *Tap) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// WaitCount waits until the tap has seen n distinct seqNums, or timeout
// passes, or ctx ends (its error then).
func (t *Tap) WaitCount(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for t.Count() < n && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(InfluxPoll / 2):
		}
	}
	return nil
}

// Count is the number of distinct seqNums seen.
func (t *Tap) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen)
}

// KafkaTap follows target's topic at a cluster from its start and
// records the samples of tr, until ctx ends (Done is closed then).
func KafkaTap(ctx context.Context, brokers []string, target Target, tr *Traffic) (*Tap, error) {
	tap := NewTap(target)
	topic := target.Name
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond),
		kgo.MetadataMaxAge(250*time.Millisecond),
		kgo.FetchMaxWait(50*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("tap %s: %w", target, err)
	}
	originPos := tr.Topic.FieldIndex("private_origin")
	seqPos := tr.Topic.FieldIndex("private_seqNum")
	rcvPos := tr.Topic.FieldIndex("private_rcvStamp")
	go func() {
		defer close(tap.done)
		defer cl.Close()
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				if len(r.Value) < 5 || r.Value[0] != 0 {
					return
				}
				s, err := tr.Topic.DecodeAvro(r.Value[5:])
				if err != nil {
					return
				}
				if o, _ := s.Values[originPos].(int32); o != tr.Origin {
					return
				}
				seq, _ := s.Values[seqPos].(int32)
				rcv, _ := s.Values[rcvPos].(float64)
				tap.Saw(seq, r.Partition, rcv, now)
			})
		}
	}()
	return tap, nil
}

// InfluxTap polls measurement of database db (target's database as the
// InfluxDB names it) for the samples of tr, until ctx ends. InfluxDB
// keeps one point per series and timestamp, so a duplicate write
// overwrites: this tap sees presence, not duplicates.
func InfluxTap(ctx context.Context, c *influxd.Client, db, measurement string, target Target, tr *Traffic) *Tap {
	tap := NewTap(target)
	q := fmt.Sprintf(`SELECT "private_seqNum","private_rcvStamp" FROM %q WHERE "private_origin" = %d AND time >= '%s'`,
		measurement, tr.Origin, tr.Start.Add(-time.Minute).UTC().Format(time.RFC3339Nano))
	go func() {
		defer close(tap.done)
		every.Run(ctx, InfluxPoll, func(ctx context.Context) {
			series, err := c.Query(ctx, db, q)
			now := time.Now()
			if err != nil {
				if ctx.Err() == nil {
					tap.mu.Lock()
					tap.err = err
					tap.mu.Unlock()
				}
				return
			}
			tap.mu.Lock()
			tap.err = nil
			tap.mu.Unlock()
			for _, s := range series {
				for _, row := range s.Values {
					if len(row) < 3 {
						continue
					}
					seq, ok1 := Number(row[1])
					rcv, _ := Number(row[2])
					if !ok1 {
						continue
					}
					tap.mu.Lock()
					_, known := tap.seen[int32(seq)]
					tap.mu.Unlock()
					if !known {
						tap.Saw(int32(seq), -1, rcv, now)
					}
				}
			}
		})
	}()
	return tap
}

// Number is an InfluxDB JSON value as a number, if it is one.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}
