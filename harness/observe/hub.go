package observe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/sal"
)

// Hub shares the reading of a scenario's taps: one Kafka consumer per
// cluster for every tapped topic there, one InfluxDB poller per database
// for every tapped measurement. A scenario of the whole summit taps
// thousands of topics at two sites and a database: one client and one
// query loop per tap would cost more than the stack they watch.
type Hub struct {
	ctx context.Context
	mu  sync.Mutex
	kf  map[string]*kafkaFollower // by seed brokers
	ix  map[string]*influxPoller  // by URL and database
	wg  sync.WaitGroup
}

// NewHub is a hub whose readers run until ctx ends; Wait waits for them.
func NewHub(ctx context.Context) *Hub {
	return &Hub{ctx: ctx, kf: map[string]*kafkaFollower{}, ix: map[string]*influxPoller{}}
}

// Wait waits until every reader of the hub has stopped (after its context
// ended); every tap's Done is closed by then.
func (h *Hub) Wait() { h.wg.Wait() }

// KafkaTap follows target's topic at the cluster of brokers from its start
// and records the samples of tr (by private_origin), until the hub's
// context ends. Records are read by direct partition assignment, with no
// consumer group, so the tap never takes messages from the stack. opts
// are the cluster's client options beyond its brokers (a secured site's
// superuser); one follower reads each cluster.
func (h *Hub) KafkaTap(brokers []string, target Target, tr *Traffic, opts ...kgo.Opt) (*Tap, error) {
	key := strings.Join(brokers, ",")
	h.mu.Lock()
	f := h.kf[key]
	if f == nil {
		var err error
		if f, err = newKafkaFollower(brokers, opts); err != nil {
			h.mu.Unlock()
			return nil, fmt.Errorf("tap %s: %w", target, err)
		}
		h.kf[key] = f
		h.wg.Go(func() { f.run(h.ctx) })
	}
	h.mu.Unlock()
	tap := NewTap(target)
	f.add(target.Name, tr, tap)
	return tap, nil
}

// kafkaFollower is one consumer of a cluster; each record of a followed
// topic goes to the taps of its writer.
type kafkaFollower struct {
	cl    *kgo.Client
	added atomic.Int64 // unix nanoseconds of the last topic added
	mu    sync.Mutex
	// by topic, then private_origin
	topics map[string]*followedTopic
	taps   []*Tap
}

type followedTopic struct {
	topic *sal.Topic
	pos   struct{ origin, seq, rcv int }
	taps  map[int32][]*Tap
	// read is the seqNum of each tapped record read, by partition and
	// offset: when the client reads an offset again (its fetch offset was
	// reset: a broker restarted, a leader's epoch went back) the record is
	// not seen twice. A duplicate is another record, at another offset.
	read map[int32]map[int64]int32
}

// first reports whether the record at offset of partition is read for the
// first time, and records it. The same offset holding another seqNum (a
// partition truncated and written again) is a record of its own.
func (t *followedTopic) first(partition int32, offset int64, seq int32) bool {
	byOffset := t.read[partition]
	if byOffset == nil {
		byOffset = map[int64]int32{}
		t.read[partition] = byOffset
	}
	if was, ok := byOffset[offset]; ok && was == seq {
		return false
	}
	byOffset[offset] = seq
	return true
}

func newKafkaFollower(brokers []string, opts []kgo.Opt) (*kafkaFollower, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// A topic not there yet is asked for again soon (MinAge); the
		// whole metadata of thousands of followed topics is not asked for
		// every moment (MaxAge).
		kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.MetadataMaxAge(2 * time.Second),
		kgo.FetchMaxWait(50 * time.Millisecond),
		kgo.FetchMinBytes(1 << 20), // not a fetch per record over thousands of partitions
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &kafkaFollower{cl: cl, topics: map[string]*followedTopic{}}, nil
}

func (f *kafkaFollower) add(name string, tr *Traffic, tap *Tap) {
	f.mu.Lock()
	ft := f.topics[name]
	fresh := ft == nil
	if fresh {
		ft = &followedTopic{topic: tr.Topic, taps: map[int32][]*Tap{}, read: map[int32]map[int64]int32{}}
		ft.pos.origin = tr.Topic.FieldIndex("private_origin")
		ft.pos.seq = tr.Topic.FieldIndex("private_seqNum")
		ft.pos.rcv = tr.Topic.FieldIndex("private_rcvStamp")
		f.topics[name] = ft
	}
	ft.taps[tr.Origin] = append(ft.taps[tr.Origin], tap)
	f.taps = append(f.taps, tap)
	f.mu.Unlock()
	if fresh {
		f.added.Store(time.Now().UnixNano())
		f.cl.AddConsumeTopics(name)
		f.cl.ForceMetadataRefresh()
	}
}

// discoverFor is how long after a topic is added the follower keeps
// asking for fresh metadata: a topic a flow creates only after its tap
// was added (a replica) is taken up within a poll, not at the next
// MetadataMaxAge, so the tap sees every record when the stack does.
const discoverFor = 5 * time.Second

// discover refreshes the metadata every 100 ms while a topic was added in
// the last discoverFor.
func (f *kafkaFollower) discover(ctx context.Context) {
	every.Run(ctx, 100*time.Millisecond, func(context.Context) {
		if time.Since(time.Unix(0, f.added.Load())) < discoverFor {
			f.cl.ForceMetadataRefresh()
		}
	})
}

func (f *kafkaFollower) run(ctx context.Context) {
	var discovering sync.WaitGroup
	discovering.Go(func() { f.discover(ctx) })
	defer func() {
		discovering.Wait() // it ends with ctx, before the client closes
		f.cl.Close()
		f.mu.Lock()
		for _, t := range f.taps {
			close(t.done)
		}
		f.taps = nil
		f.mu.Unlock()
	}()
	for {
		fs := f.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		fs.EachTopic(func(ft kgo.FetchTopic) {
			f.mu.Lock()
			t := f.topics[ft.Topic]
			f.mu.Unlock()
			if t == nil {
				return
			}
			ft.EachRecord(func(r *kgo.Record) {
				if len(r.Value) < 5 || r.Value[0] != 0 {
					return
				}
				s, err := t.topic.DecodeAvro(r.Value[5:])
				if err != nil {
					return
				}
				o, _ := s.Values[t.pos.origin].(int32)
				f.mu.Lock()
				taps := t.taps[o]
				f.mu.Unlock()
				if len(taps) == 0 {
					return
				}
				seq, _ := s.Values[t.pos.seq].(int32)
				rcv, _ := s.Values[t.pos.rcv].(float64)
				if !t.first(r.Partition, r.Offset, seq) {
					return
				}
				for _, tap := range taps {
					tap.Saw(seq, r.Partition, rcv, now)
				}
			})
		})
	}
}

// InfluxTap follows measurement of database db (target's database as the
// InfluxDB names it) for the samples of tr, until the hub's context ends.
// InfluxDB keeps one point per series and timestamp, so a duplicate write
// overwrites: this tap sees presence, not duplicates.
func (h *Hub) InfluxTap(c *influxd.Client, db, measurement string, target Target, tr *Traffic) *Tap {
	key := c.URL + "\x00" + db
	h.mu.Lock()
	p := h.ix[key]
	if p == nil {
		p = &influxPoller{c: c, db: db}
		h.ix[key] = p
		h.wg.Go(func() { p.run(h.ctx) })
	}
	h.mu.Unlock()
	tap := NewTap(target)
	tap.sweep = func(ctx context.Context) error { return p.sweep(ctx, measurement, tr, tap) }
	p.add(&polled{measurement: measurement, tr: tr, tap: tap})
	return tap
}

// influxPoller polls one database for every tap on it: each round is one
// request with a statement per tap whose writer wrote a sample it has not
// seen, each asking only for the points from its earliest sample not yet
// seen (less a margin), so a round reads what is new, not everything so
// far.
type influxPoller struct {
	c  *influxd.Client
	db string
	mu sync.Mutex
	ps []*polled
}

type polled struct {
	measurement string
	tr          *Traffic
	tap         *Tap
	done        bool // the writer finished and every sample was seen
}

// influxMargin is how much earlier than its earliest unseen sample's
// private_efdStamp a tap asks for points: the sink's precision rounds a
// point's time either way. A point earlier still would only be missed by
// the polling, never by a verdict (Tap.Sweep reads the whole range).
const influxMargin = 2 * time.Second

// influxMaxWait bounds the wait between two rounds.
const influxMaxWait = 5 * time.Second

// influxStatementsPerRequest bounds one request's statements.
const influxStatementsPerRequest = 500

func (p *influxPoller) add(x *polled) {
	p.mu.Lock()
	p.ps = append(p.ps, x)
	p.mu.Unlock()
}

func (p *influxPoller) run(ctx context.Context) {
	defer func() {
		p.mu.Lock()
		for _, x := range p.ps {
			close(x.tap.done)
		}
		p.ps = nil
		p.mu.Unlock()
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		started := time.Now()
		p.round(ctx)
		// A round that takes long is not repeated at once: the next waits
		// ten times as long, leaving the database to the stack it
		// observes (on the whole summit, the polling at twice its round
		// took a seventh of influxd's CPU and the real-time factor from
		// 0.91 to 0.79), but never more than influxMaxWait: one slow
		// round (a compaction) does not blind the taps for minutes.
		t.Reset(min(max(InfluxPoll, 10*time.Since(started)), influxMaxWait))
	}
}

func (p *influxPoller) round(ctx context.Context) {
	p.mu.Lock()
	ps := append([]*polled(nil), p.ps...)
	p.mu.Unlock()
	// Only taps whose writers wrote something they have not seen yet are
	// asked about: of the whole summit's thousands of writers, most have
	// nothing in flight at any moment (a verdict of absence sweeps).
	var active []*polled
	for _, x := range ps {
		if !x.done && x.tap.pending(x.tr) {
			active = append(active, x)
		}
	}
	for chunk := range slices.Chunk(active, influxStatementsPerRequest) {
		var q strings.Builder
		type key struct {
			measurement string
			origin      int32
		}
		byKey := map[key]*polled{}
		for i, x := range chunk {
			if i > 0 {
				q.WriteString(";")
			}
			from := x.tap.unseenFrom(x.tr).Add(-influxMargin)
			fmt.Fprintf(&q, `SELECT "private_seqNum","private_rcvStamp","private_origin" FROM %q WHERE "private_origin" = %d AND time >= '%s'`,
				x.measurement, x.tr.Origin, from.UTC().Format(time.RFC3339Nano))
			byKey[key{x.measurement, x.tr.Origin}] = x
		}
		series, err := p.c.Query(ctx, p.db, q.String())
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				for _, x := range chunk {
					x.tap.setErr(err)
				}
			}
			continue
		}
		for _, x := range chunk {
			x.tap.setErr(nil)
		}
		for _, s := range series {
			for _, row := range s.Values {
				if len(row) < 4 {
					continue
				}
				seq, ok1 := Number(row[1])
				rcv, _ := Number(row[2])
				origin, ok2 := Number(row[3])
				x := byKey[key{s.Name, int32(origin)}]
				if !ok1 || !ok2 || x == nil {
					continue
				}
				x.tap.sawOnce(int32(seq), rcv, now)
			}
		}
		for _, x := range chunk {
			if x.tr.Finished() && x.tap.Count() >= x.tr.Len() {
				x.done = true // read and written by the polling goroutine only
			}
		}
	}
}

// sweep reads every point of tr in measurement from a minute before the
// traffic started: what the incremental rounds could have missed.
func (p *influxPoller) sweep(ctx context.Context, measurement string, tr *Traffic, tap *Tap) error {
	q := fmt.Sprintf(`SELECT "private_seqNum","private_rcvStamp" FROM %q WHERE "private_origin" = %d AND time >= '%s'`,
		measurement, tr.Origin, tr.Start.Add(-time.Minute).UTC().Format(time.RFC3339Nano))
	series, err := p.c.Query(ctx, p.db, q)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range series {
		for _, row := range s.Values {
			if len(row) < 3 {
				continue
			}
			if seq, ok := Number(row[1]); ok {
				rcv, _ := Number(row[2])
				tap.sawOnce(int32(seq), rcv, now)
			}
		}
	}
	return nil
}
