package observe

import (
	"context"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
)

// Traffic is what one writer wrote in a scenario: the ground-truth ledger
// its deliveries are checked against.
type Traffic struct {
	Topic  *sal.Topic
	Index  int32
	Domain int
	// TextSite is the site whose Kafka the samples were written to as SAL
	// text (no DDS domain then).
	TextSite string
	// KafkaWriter is the Kafka-era writer group (a stand's writers) whose
	// components wrote the samples straight to their site's Kafka (no DDS
	// domain then).
	KafkaWriter string
	Origin      int32
	RateHz      float64
	Start       time.Time

	mu     sync.Mutex
	writes []mocksal.Write
	end    time.Time
	// written is closed once the writer is done (the ledger is complete).
	written chan struct{}
	once    sync.Once
	// ReadBefore is each producer's read counter for the topic when
	// the traffic started, so that producer steps count this traffic only.
	ReadBefore map[string]int64
	err        error
}

// NewTraffic starts the ledger of a writer of topic that starts now,
// with private_origin origin.
func NewTraffic(topic *sal.Topic, index, origin int32, rateHz float64) *Traffic {
	return &Traffic{Topic: topic, Index: index, Origin: origin, RateHz: rateHz, Start: time.Now(), written: make(chan struct{})}
}

// Identity is the writer's private_identity: "CSC:index" for an indexed
// CSC, "CSC" otherwise (as mocksal writes it).
func (t *Traffic) Identity() string {
	if !t.Topic.Indexed {
		return mocksal.Identity(t.Topic.CSC, 0)
	}
	return mocksal.Identity(t.Topic.CSC, t.Index)
}

// Finish records the end of writing: the ledger is complete.
func (t *Traffic) Finish(err error) {
	t.mu.Lock()
	t.end, t.err = time.Now(), err
	t.mu.Unlock()
	t.once.Do(func() { close(t.written) })
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

// Finished reports whether the writer is done (the ledger is complete).
func (t *Traffic) Finished() bool {
	select {
	case <-t.written:
		return true
	default:
		return false
	}
}

// Len is the number of writes so far.
func (t *Traffic) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.writes)
}

// At is the i-th write (i < Len()).
func (t *Traffic) At(i int) mocksal.Write {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes[i]
}

// Writes returns a copy of the ledger.
func (t *Traffic) Writes() []mocksal.Write {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]mocksal.Write(nil), t.writes...)
}

// Record adds a write to the ledger.
func (t *Traffic) Record(w mocksal.Write) {
	t.mu.Lock()
	t.writes = append(t.writes, w)
	t.mu.Unlock()
}
