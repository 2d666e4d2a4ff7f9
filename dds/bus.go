package dds

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lsst-ts/teststand/sal"
)

// DefaultQueueDepth is the read queue depth of ts_salkafka's topic readers.
const DefaultQueueDepth = 100

// ErrClosed is returned by Publish and Read once the reader or bus is closed.
var ErrClosed = errors.New("dds: closed")

// Partition returns the DDS partition a sample of topic travels in: commands
// go to "<prefix>.<CSC>.cmd", everything else (telemetry, events, ackcmd) to
// "<prefix>.<CSC>.data". An empty prefix gives "<CSC>.cmd" / "<CSC>.data".
func Partition(prefix string, t *sal.Topic) string {
	suffix := "data"
	if t.Kind == sal.Command {
		suffix = "cmd"
	}
	if prefix == "" {
		return t.CSC + "." + suffix
	}
	return prefix + "." + t.CSC + "." + suffix
}

// Bus is an in-process DDS data space holding any number of domains. The zero
// value is not usable; call NewBus.
type Bus struct {
	mu         sync.RWMutex
	readers    map[int][]*Reader // by domain id
	forwarders map[int][]Forwarder
	watchers   map[int][]func(ReaderConfig)
	closed     bool
}

// Forwarder receives every sample published on a domain of this bus by a
// local writer, to carry it to other processes (see Join). It may block:
// that is backpressure on the writer.
type Forwarder func(ctx context.Context, prefix string, s *sal.Sample) error

// AddForwarder registers f for samples written locally on domain.
func (b *Bus) AddForwarder(domain int, f Forwarder) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forwarders[domain] = append(b.forwarders[domain], f)
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{readers: make(map[int][]*Reader), forwarders: make(map[int][]Forwarder), watchers: make(map[int][]func(ReaderConfig))}
}

// Watch calls f with the configuration of every reader subscribed on
// domain, those there already and each one subscribed later, so that a
// transport can subscribe to what local readers want (a real DDS domain
// only carries a topic to a process that has a reader for it). f runs on
// the subscriber's goroutine and must not call back into the bus.
func (b *Bus) Watch(domain int, f func(ReaderConfig)) {
	b.mu.Lock()
	b.watchers[domain] = append(b.watchers[domain], f)
	var cfgs []ReaderConfig
	for _, r := range b.readers[domain] {
		cfgs = append(cfgs, r.cfg)
	}
	b.mu.Unlock()
	for _, c := range cfgs {
		f(c)
	}
}

// ReaderConfig says what a reader subscribes to.
type ReaderConfig struct {
	// Domain is the DDS domain id.
	Domain int
	// PartitionPrefix is LSST_DDS_PARTITION_PREFIX of the reader's process.
	PartitionPrefix string
	// Topic is the SAL topic read.
	Topic *sal.Topic
	// Index restricts an indexed CSC's reader to one salIndex; 0 reads all.
	Index int32
	// Depth is the queue depth; 0 means DefaultQueueDepth.
	Depth int
}

// Reader is one topic reader on one domain. Its queue is bounded.
type Reader struct {
	cfg       ReaderConfig
	partition string
	indexPos  int
	q         chan *sal.Sample
	done      chan struct{}
	closeOnce sync.Once
	bus       *Bus
}

// Subscribe registers a reader. It receives samples published after it
// subscribed, like a volatile DDS reader.
func (b *Bus) Subscribe(cfg ReaderConfig) (*Reader, error) {
	if cfg.Topic == nil {
		return nil, errors.New("dds: reader needs a topic")
	}
	if cfg.Depth <= 0 {
		cfg.Depth = DefaultQueueDepth
	}
	r := &Reader{
		cfg:       cfg,
		partition: Partition(cfg.PartitionPrefix, cfg.Topic),
		indexPos:  cfg.Topic.FieldIndex("salIndex"),
		q:         make(chan *sal.Sample, cfg.Depth),
		done:      make(chan struct{}),
		bus:       b,
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.readers[cfg.Domain] = append(b.readers[cfg.Domain], r)
	watchers := b.watchers[cfg.Domain]
	b.mu.Unlock()
	for _, f := range watchers {
		f(cfg)
	}
	return r, nil
}

// Publish delivers s to every matching reader of domain, in the partition
// derived from prefix, and hands it to the domain's forwarders. It blocks
// while a matching reader's queue is full, until ctx ends. It returns the
// number of local readers that received the sample. Readers share s and
// must not modify it.
func (b *Bus) Publish(ctx context.Context, domain int, prefix string, s *sal.Sample) (int, error) {
	n, err := b.Deliver(ctx, domain, prefix, s)
	if err != nil {
		return n, err
	}
	b.mu.RLock()
	fw := b.forwarders[domain]
	b.mu.RUnlock()
	for _, f := range fw {
		if err := f(ctx, prefix, s); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Deliver is Publish for a sample that came from another process: local
// readers get it, forwarders do not (it would echo back).
func (b *Bus) Deliver(ctx context.Context, domain int, prefix string, s *sal.Sample) (int, error) {
	part := Partition(prefix, s.Topic)
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return 0, ErrClosed
	}
	var matched []*Reader
	for _, r := range b.readers[domain] {
		if r.matches(part, s) {
			matched = append(matched, r)
		}
	}
	b.mu.RUnlock()
	n := 0
	for _, r := range matched {
		select {
		case r.q <- s:
			n++
		case <-r.done:
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
	return n, nil
}

func (r *Reader) matches(partition string, s *sal.Sample) bool {
	if s.Topic.CSC != r.cfg.Topic.CSC || s.Topic.Name != r.cfg.Topic.Name || partition != r.partition {
		return false
	}
	if r.cfg.Index != 0 && r.indexPos >= 0 {
		idx, _ := s.Values[r.indexPos].(int32)
		return idx == r.cfg.Index
	}
	return true
}

// Read takes the next sample, waiting until one arrives, the reader closes
// or ctx ends. It returns the sample's private_rcvStamp (TAI now) with it;
// the sample itself is shared and must not be modified.
func (r *Reader) Read(ctx context.Context) (*sal.Sample, float64, error) {
	select {
	case <-r.done:
		return nil, 0, ErrClosed
	default:
	}
	select {
	case s := <-r.q:
		return s, sal.TAINow(), nil
	case <-r.done:
		return nil, 0, ErrClosed
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}

// TryRead takes a queued sample without waiting; ok is false when the
// queue is empty. A closing producer drains its queue with it.
func (r *Reader) TryRead() (s *sal.Sample, rcv float64, ok bool) {
	select {
	case s := <-r.q:
		return s, sal.TAINow(), true
	default:
		return nil, 0, false
	}
}

// Len is the number of samples waiting in the queue.
func (r *Reader) Len() int { return len(r.q) }

// Cap is the queue depth.
func (r *Reader) Cap() int { return cap(r.q) }

// Topic is the topic read.
func (r *Reader) Topic() *sal.Topic { return r.cfg.Topic }

// Close unsubscribes the reader; writers blocked on it are released.
func (r *Reader) Close() {
	r.closeOnce.Do(func() {
		close(r.done)
		b := r.bus
		b.mu.Lock()
		defer b.mu.Unlock()
		rs := b.readers[r.cfg.Domain]
		for i, x := range rs {
			if x == r {
				b.readers[r.cfg.Domain] = append(rs[:i:i], rs[i+1:]...)
				break
			}
		}
	})
}

// Close closes the bus and every reader on it.
func (b *Bus) Close() {
	b.mu.Lock()
	b.closed = true
	var all []*Reader
	for _, rs := range b.readers {
		all = append(all, rs...)
	}
	b.mu.Unlock()
	for _, r := range all {
		r.closeOnce.Do(func() { close(r.done) })
	}
}

// String describes the reader for logs.
func (r *Reader) String() string {
	return fmt.Sprintf("domain %d partition %s topic %s", r.cfg.Domain, r.partition, r.cfg.Topic.Name)
}
