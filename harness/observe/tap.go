package observe

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/sal"
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
	cursor    int                             // writes before it are all seen (unseenFrom)
	sweep     func(ctx context.Context) error // nil: nothing to sweep
	up        *Tap                            // the place samples come to this one from; nil at the first
}

// After records that the samples at t come from up's place (a replica from
// its source topic, a database from the topic its sink reads), and
// returns t: a verdict's path runs up this chain. Call it before the tap
// is judged.
func (t *Tap) After(up *Tap) *Tap {
	t.up = up
	return t
}

// NewTap is a tap at target that has seen nothing; Saw records what it
// sees (a Hub's KafkaTap and InfluxTap feed theirs).
func NewTap(target Target) *Tap {
	return &Tap{Target: target, seen: map[int32]*sighting{}, lastSeq: map[int32]int32{}, done: make(chan struct{})}
}

// Saw records that the tap saw seq (in a Kafka partition, or -1) at at,
// with private_rcvStamp rcv.
func (t *Tap) Saw(seq int32, partition int32, rcv float64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.saw(seq, partition, rcv, at)
}

// saw is Saw with t.mu held.
func (t *Tap) saw(seq int32, partition int32, rcv float64, at time.Time) {
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

// setErr records the tap's last read error (nil after a read that worked).
func (t *Tap) setErr(err error) {
	t.mu.Lock()
	t.err = err
	t.mu.Unlock()
}

// sawOnce records seq as seen where duplicates cannot be told apart (an
// InfluxDB point), unless it already was.
func (t *Tap) sawOnce(seq int32, rcv float64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, known := t.seen[seq]; !known {
		t.saw(seq, -1, rcv, at)
	}
}

// unseenFrom is the time (private_efdStamp, the EFD's point time) of tr's
// earliest write this tap has not seen, or of its last write when it has
// seen them all, or when tr started when nothing was written yet. A
// cursor remembers how far every write was seen, so a call costs only
// what was seen since the last.
func (t *Tap) unseenFrom(tr *Traffic) time.Time {
	n := tr.Len()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case n == 0:
		return tr.Start
	case t.advance(tr, n):
		return tai(tr.At(t.cursor).SndStamp)
	}
	return tai(tr.At(n - 1).SndStamp)
}

// advance moves the cursor past the first n writes of tr already seen
// and reports whether one of them is not (t.mu held).
func (t *Tap) advance(tr *Traffic, n int) bool {
	for t.cursor < n {
		if _, ok := t.seen[tr.At(t.cursor).SeqNum]; !ok {
			return true
		}
		t.cursor++
	}
	return false
}

// pending reports whether tr has written a sample this tap has not seen
// (advancing the cursor as unseenFrom does): a tap with none has nothing
// to look for until its writer writes again.
func (t *Tap) pending(tr *Traffic) bool {
	n := tr.Len()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.advance(tr, n)
}

// tai is the EFD time of a private_sndStamp (TAI seconds).
func tai(snd float64) time.Time {
	utc := sal.UTCFromTAI(snd)
	sec := math.Floor(utc)
	return time.Unix(int64(sec), int64((utc-sec)*1e9))
}

// Sweep reads again everything the tap's place holds of its writer, where
// the tap reads incrementally (InfluxDB): a verdict that something was
// not delivered must not rest on what the polling skipped. It does
// nothing for a Kafka tap, which reads every record.
func (t *Tap) Sweep(ctx context.Context) error {
	if t.sweep == nil {
		return nil
	}
	return t.sweep(ctx)
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
