package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
)

// InfluxPoll is how often the InfluxDB tap looks for new points: the
// resolution of "visible in InfluxDB" times.
const InfluxPoll = 10 * time.Millisecond

// Traffic is what one writer wrote in a scenario: the ground-truth ledger
// its deliveries are checked against.
type Traffic struct {
	Topic  *sal.Topic
	Index  int32
	Domain int
	// TextSite is the site whose Kafka the samples were written to as SAL
	// text (no DDS domain then).
	TextSite string
	Origin   int32
	RateHz   float64
	Start    time.Time

	mu     sync.Mutex
	writes []mocksal.Write
	end    time.Time
	// written is closed once the writer is done (the ledger is complete).
	written chan struct{}
	// readBefore is each producer's read counter for the topic when the
	// traffic started, so that producer steps count this traffic only.
	readBefore map[string]int64
	err        error
}

// Identity is the writer's private_identity: "CSC:index" for an indexed
// CSC, "CSC" otherwise (as mocksal writes it).
func (t *Traffic) Identity() string {
	if !t.Topic.Indexed {
		return mocksal.Identity(t.Topic.CSC, 0)
	}
	return mocksal.Identity(t.Topic.CSC, t.Index)
}

// finish records the end of writing.
func (t *Traffic) finish(err error) {
	t.mu.Lock()
	t.end, t.err = time.Now(), err
	t.mu.Unlock()
	close(t.written)
}

// Wait waits until the writer is done and returns its error.
func (t *Traffic) Wait(ctx context.Context) error {
	select {
	case <-t.written:
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Writes returns a copy of the ledger.
func (t *Traffic) Writes() []mocksal.Write {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]mocksal.Write(nil), t.writes...)
}

func (t *Traffic) record(w mocksal.Write) {
	t.mu.Lock()
	t.writes = append(t.writes, w)
	t.mu.Unlock()
}

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
	// Where names the place: "kafka@usdf/summit.lsst.sal.ATDome.position"
	// or "influxdb@usdf/efd".
	Where string
	// Hop names the hop a sighting here ends: "→kafka@summit".
	Hop string

	mu        sync.Mutex
	seen      map[int32]*sighting
	reordered int
	lastSeq   map[int32]int32 // per partition
	err       error
	done      chan struct{}
}

func newTap(where, hop string) *Tap {
	return &Tap{Where: where, Hop: hop, seen: map[int32]*sighting{}, lastSeq: map[int32]int32{}, done: make(chan struct{})}
}

func (t *Tap) saw(seq int32, partition int32, rcv float64, at time.Time) {
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

// Count is the number of distinct seqNums seen.
func (t *Tap) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen)
}

// kafkaTap follows topic at a cluster from its start and records the
// samples of tr.
func kafkaTap(ctx context.Context, brokers []string, topic, where, hop string, tr *Traffic) (*Tap, error) {
	tap := newTap(where, hop)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond),
		kgo.MetadataMaxAge(250*time.Millisecond),
		kgo.FetchMaxWait(50*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("tap %s: %w", where, err)
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
				tap.saw(seq, r.Partition, rcv, now)
			})
		}
	}()
	return tap, nil
}

// influxTap polls a measurement of a database for the samples of tr.
// InfluxDB keeps one point per series and timestamp, so a duplicate write
// overwrites: this tap sees presence, not duplicates.
func influxTap(ctx context.Context, c *influxd.Client, db, measurement, where, hop string, tr *Traffic) *Tap {
	tap := newTap(where, hop)
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
					seq, ok1 := num(row[1])
					rcv, _ := num(row[2])
					if !ok1 {
						continue
					}
					tap.mu.Lock()
					_, known := tap.seen[int32(seq)]
					tap.mu.Unlock()
					if !known {
						tap.saw(int32(seq), -1, rcv, now)
					}
				}
			}
		})
	}()
	return tap
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// sortedSeqs returns the keys of m in order.
func sortedSeqs(m map[int32]sighting) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
