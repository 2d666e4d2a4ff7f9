//go:build cyclonedds

package cyclonedds

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
)

func init() { dds.RegisterTransport(dds.CycloneDDS, Join) }

// MatchWait is how long a new writer waits for its first matched reader
// before it writes: a volatile DDS writer's samples reach only the readers
// it has matched, and discovery on loopback takes milliseconds. A writer
// with no reader on the domain (a CSC on a test domain) waits this long
// once, then writes into the void, as DDS does.
var MatchWait = 2 * time.Second

// Config is Cyclone DDS's configuration for a stand's domain: unicast
// discovery on the loopback interface from base port base (the RTPS port
// mapping: domain d's ports start at base + 250·d), for processes on one
// machine whose loopback has no multicast. CYCLONEDDS_URI, when set,
// replaces it (a deployment's own configuration, as ts_ddsconfig gives).
func Config(base int) string {
	return fmt.Sprintf(`<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces>`+
		`<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>`+
		`<MaxAutoParticipantIndex>40</MaxAutoParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers>`+
		`<Ports><Base>%d</Base></Ports></Discovery></Domain></CycloneDDS>`, base)
}

// Domain is one dds.Bus domain on a real DDS domain: a participant whose
// writers carry what the bus's local writers publish, and whose readers
// deliver to the bus what the domain's other participants publish for the
// bus's readers.
type Domain struct {
	cfg  dds.LinkConfig
	bus  *dds.Bus
	log  *slog.Logger
	pp   C.dds_entity_t
	guid C.dds_guid_t
	ws   C.dds_entity_t
	wake C.dds_entity_t // guard condition: Close, new readers
	pubs C.dds_entity_t // DCPSPublication reader
	ppts C.dds_entity_t // DCPSParticipant reader

	acquired bool // holds a reference to the process's Cyclone domain

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	descs       []*C.dds_topic_descriptor_t
	layouts     map[*sal.Topic]*Layout
	topics      map[string]C.dds_entity_t // by DDS topic name
	publishers  map[string]C.dds_entity_t // by partition
	subscribers map[string]C.dds_entity_t
	writers     map[endpoint]*writer
	readers     map[C.dds_entity_t]*reader
	reading     map[endpoint]bool // DDS topic name and partition
	wants       map[want]string   // what the bus's readers read → their prefix
	published   map[want][]string // discovered publications' revcodes
	peers       map[[16]byte]bool

	// Sent and Received count samples written to and taken from DDS;
	// Failed counts writes and takes that failed.
	Sent, Received, Failed atomic.Int64
}

type endpoint struct{ topic, partition string }

type want struct{ csc, name, partition string }

type writer struct {
	mu     sync.Mutex
	entity C.dds_entity_t
	layout *Layout
	err    error
}

type reader struct {
	entity C.dds_entity_t
	layout *Layout
	prefix string
	take   *C.ts_take_t
}

// Join creates a participant on DDS domain cfg.Domain and carries bus's
// domain over it. It returns once the participant exists; discovery of
// the other participants goes on in the background.
func Join(ctx context.Context, bus *dds.Bus, cfg dds.LinkConfig) (dds.Domain, error) {
	if cfg.Interfaces == nil {
		return nil, errors.New("cyclonedds: Join needs the interfaces to lay out topics")
	}
	if cfg.BasePort == 0 {
		cfg.BasePort = dds.BasePort()
	}
	if cfg.Domain < 0 || cfg.Domain > 232 {
		return nil, fmt.Errorf("cyclonedds: domain %d is not a DDS domain id (0–232)", cfg.Domain)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Domain{cfg: cfg, bus: bus, log: log.With("component", "cyclonedds", "domain", cfg.Domain),
		layouts: map[*sal.Topic]*Layout{}, topics: map[string]C.dds_entity_t{},
		publishers: map[string]C.dds_entity_t{}, subscribers: map[string]C.dds_entity_t{},
		writers: map[endpoint]*writer{}, readers: map[C.dds_entity_t]*reader{}, reading: map[endpoint]bool{},
		wants: map[want]string{}, published: map[want][]string{}, peers: map[[16]byte]bool{}}
	if err := d.open(); err != nil {
		d.free()
		return nil, err
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.loop()
	}()
	bus.AddForwarder(cfg.Domain, d.forward)
	bus.Watch(cfg.Domain, d.watch)
	d.log.Info("cyclonedds: joined", "base_port", cfg.BasePort)
	return d, nil
}

// domains are the Cyclone domains this process created, by id: a domain
// outlives its participants until deleted, so each is shared by the Joins
// of its id and deleted with the last of them.
var domains = struct {
	sync.Mutex
	m map[int]*cdomain
}{m: map[int]*cdomain{}}

type cdomain struct {
	entity C.dds_entity_t
	base   int
	refs   int
}

// acquire creates (or shares) the process's Cyclone domain of d's id with
// d's configuration.
func (d *Domain) acquire() error {
	if os.Getenv("CYCLONEDDS_URI") != "" {
		return nil // the participant reads its configuration from there
	}
	domains.Lock()
	defer domains.Unlock()
	if cd, ok := domains.m[d.cfg.Domain]; ok {
		if cd.base != d.cfg.BasePort {
			return fmt.Errorf("cyclonedds: domain %d is joined with base port %d in this process already, not %d", d.cfg.Domain, cd.base, d.cfg.BasePort)
		}
		cd.refs++
		d.acquired = true
		return nil
	}
	conf := C.CString(Config(d.cfg.BasePort))
	defer C.free(unsafe.Pointer(conf))
	e := C.dds_create_domain(C.dds_domainid_t(d.cfg.Domain), conf)
	if err := ddsErr(fmt.Sprintf("create domain %d", d.cfg.Domain), e); err != nil {
		return err
	}
	domains.m[d.cfg.Domain] = &cdomain{entity: e, base: d.cfg.BasePort, refs: 1}
	d.acquired = true
	return nil
}

// release deletes the process's Cyclone domain when d was its last user.
func (d *Domain) release() {
	if !d.acquired {
		return
	}
	d.acquired = false
	domains.Lock()
	defer domains.Unlock()
	cd := domains.m[d.cfg.Domain]
	if cd.refs--; cd.refs == 0 {
		C.dds_delete(cd.entity)
		delete(domains.m, d.cfg.Domain)
	}
}

func (d *Domain) open() error {
	if err := d.acquire(); err != nil {
		return err
	}
	d.pp = C.dds_create_participant(C.dds_domainid_t(d.cfg.Domain), nil, nil)
	if err := ddsErr("create participant", d.pp); err != nil {
		return err
	}
	if err := ddsErr("participant guid", C.dds_get_guid(d.pp, &d.guid)); err != nil {
		return err
	}
	d.ws = C.dds_create_waitset(d.pp)
	d.wake = C.dds_create_guardcondition(d.pp)
	d.pubs = C.ts_builtin_reader(d.pp, 0)
	d.ppts = C.ts_builtin_reader(d.pp, 1)
	for _, e := range []C.dds_entity_t{d.ws, d.wake, d.pubs, d.ppts} {
		if err := ddsErr("create built-in readers and waitset", e); err != nil {
			return err
		}
	}
	for _, e := range []C.dds_entity_t{d.pubs, d.ppts} {
		rc := C.dds_create_readcondition(e, C.DDS_ANY_STATE)
		if err := ddsErr("read condition", rc); err != nil {
			return err
		}
		if err := ddsErr("attach", C.dds_waitset_attach(d.ws, rc, C.dds_attach_t(e))); err != nil {
			return err
		}
	}
	return ddsErr("attach", C.dds_waitset_attach(d.ws, d.wake, C.dds_attach_t(d.wake)))
}

// Peers is the number of other participants discovered on the domain.
func (d *Domain) Peers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.peers)
}

// Close deletes the participant (and every entity under it) once the
// reading loop has stopped. The bus keeps the domain's forwarder: a sample
// published on the domain after Close fails with an error wrapping
// dds.ErrClosed, rather than seem written and go nowhere.
func (d *Domain) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	C.dds_set_guardcondition(d.wake, true)
	d.wg.Wait()
	d.free()
	return nil
}

// errClosed is a publish's error after Close.
func (d *Domain) errClosed() error {
	return fmt.Errorf("cyclonedds: domain %d was left (Close): nothing is written on it: %w", d.cfg.Domain, dds.ErrClosed)
}

func (d *Domain) free() {
	if d.pp > 0 {
		C.dds_delete(d.pp)
		d.pp = 0
	}
	d.release()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.readers {
		C.free(unsafe.Pointer(r.take))
	}
	for _, p := range d.descs {
		C.ts_free_descriptor(p)
	}
	d.descs, d.readers = nil, nil
}

// layout is t's layout, built once. Callers hold d.mu.
func (d *Domain) layout(t *sal.Topic) (*Layout, error) {
	if l, ok := d.layouts[t]; ok {
		return l, nil
	}
	l, err := NewLayout(t)
	if err != nil {
		return nil, err
	}
	d.layouts[t] = l
	return l, nil
}

// topic is the DDS topic of l, created once. Callers hold d.mu.
func (d *Domain) topic(l *Layout) (C.dds_entity_t, error) {
	name := l.TopicName()
	if t, ok := d.topics[name]; ok {
		return t, nil
	}
	desc := descriptor(l)
	d.descs = append(d.descs, desc)
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	t := C.ts_topic(d.pp, desc, cn)
	if err := ddsErr("create topic "+name, t); err != nil {
		return 0, err
	}
	d.topics[name] = t
	return t, nil
}

// partitioned is the publisher or subscriber of a partition, created once.
// Callers hold d.mu.
func (d *Domain) partitioned(m map[string]C.dds_entity_t, partition string, publisher bool) (C.dds_entity_t, error) {
	if e, ok := m[partition]; ok {
		return e, nil
	}
	cp := C.CString(partition)
	defer C.free(unsafe.Pointer(cp))
	q := C.ts_partition_qos(cp)
	defer C.dds_delete_qos(q)
	var e C.dds_entity_t
	if publisher {
		e = C.dds_create_publisher(d.pp, q, nil)
	} else {
		e = C.dds_create_subscriber(d.pp, q, nil)
	}
	if err := ddsErr("create publisher/subscriber for partition "+partition, e); err != nil {
		return 0, err
	}
	m[partition] = e
	return e, nil
}

// forward is the bus forwarder: a sample a local writer published goes to
// DDS through the writer of its topic and partition.
func (d *Domain) forward(ctx context.Context, prefix string, s *sal.Sample) error {
	w, err := d.writer(ctx, dds.Partition(prefix, s.Topic), s.Topic)
	if err != nil {
		d.Failed.Add(1)
		return err
	}
	p, release, err := encode(w.layout, s)
	if err != nil {
		d.Failed.Add(1)
		return err
	}
	defer release()
	if err := ddsErr("write "+w.layout.TopicName(), C.dds_write(w.entity, p)); err != nil {
		d.Failed.Add(1)
		return err
	}
	d.Sent.Add(1)
	return nil
}

// writer is the DDS writer of a topic in a partition. A new writer waits
// up to MatchWait for its first reader.
func (d *Domain) writer(ctx context.Context, partition string, t *sal.Topic) (*writer, error) {
	key := endpoint{t.CSC + "." + t.Name, partition}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, d.errClosed()
	}
	w, ok := d.writers[key]
	if ok {
		d.mu.Unlock()
		w.mu.Lock() // wait for its creation
		defer w.mu.Unlock()
		return w, w.err
	}
	w = &writer{}
	w.mu.Lock()
	defer w.mu.Unlock()
	d.writers[key] = w
	w.err = func() error {
		defer d.mu.Unlock()
		l, err := d.layout(t)
		if err != nil {
			return err
		}
		tp, err := d.topic(l)
		if err != nil {
			return err
		}
		pub, err := d.partitioned(d.publishers, partition, true)
		if err != nil {
			return err
		}
		q := C.ts_qos(kindCode(t.Kind), 0)
		defer C.dds_delete_qos(q)
		w.entity = C.dds_create_writer(pub, tp, q, nil)
		w.layout = l
		return ddsErr("create writer "+l.TopicName(), w.entity)
	}()
	if w.err != nil {
		return w, w.err
	}
	deadline := time.Now().Add(MatchWait)
	for C.ts_matched(w.entity) == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return w, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	d.log.Debug("cyclonedds: writer", "topic", w.layout.TopicName(), "partition", partition, "matched", int(C.ts_matched(w.entity)))
	return w, nil
}

// watch learns what a local bus reader reads, and reads it from DDS for
// every publication of it there is.
func (d *Domain) watch(rc dds.ReaderConfig) {
	wt := want{rc.Topic.CSC, rc.Topic.Name, dds.Partition(rc.PartitionPrefix, rc.Topic)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.wants[wt]; ok || d.closed {
		return
	}
	d.wants[wt] = rc.PartitionPrefix
	for _, rev := range d.published[wt] {
		d.read(wt, rev)
	}
}

// read creates the reader of a wanted topic under a revcode seen on the
// domain. Callers hold d.mu.
func (d *Domain) read(wt want, rev string) {
	t := d.cfg.Interfaces.Topic(wt.csc, wt.name)
	if t == nil {
		return
	}
	l, err := d.layout(t)
	if err != nil {
		d.log.Warn("cyclonedds: cannot read", "err", err)
		return
	}
	l = l.WithRevcode(rev)
	key := endpoint{l.TopicName(), wt.partition}
	if d.reading[key] {
		return
	}
	d.reading[key] = true
	err = func() error {
		tp, err := d.topic(l)
		if err != nil {
			return err
		}
		sub, err := d.partitioned(d.subscribers, wt.partition, false)
		if err != nil {
			return err
		}
		q := C.ts_qos(kindCode(t.Kind), 1)
		defer C.dds_delete_qos(q)
		e := C.dds_create_reader(sub, tp, q, nil)
		if err := ddsErr("create reader "+l.TopicName(), e); err != nil {
			return err
		}
		cond := C.dds_create_readcondition(e, C.DDS_ANY_STATE)
		if err := ddsErr("read condition", cond); err != nil {
			return err
		}
		d.readers[e] = &reader{entity: e, layout: l, prefix: d.wants[wt], take: (*C.ts_take_t)(C.calloc(1, C.sizeof_ts_take_t))}
		return ddsErr("attach", C.dds_waitset_attach(d.ws, cond, C.dds_attach_t(e)))
	}()
	if err != nil {
		d.log.Error("cyclonedds: reader", "topic", l.TopicName(), "partition", wt.partition, "err", err)
		return
	}
	d.log.Debug("cyclonedds: reader", "topic", l.TopicName(), "partition", wt.partition)
}

// loop waits on the waitset and takes what triggered it, until Close.
func (d *Domain) loop() {
	var xs [64]C.dds_attach_t
	for d.ctx.Err() == nil {
		n := C.dds_waitset_wait(d.ws, &xs[0], C.size_t(len(xs)), C.dds_duration_t(time.Second))
		if n < 0 {
			d.log.Error("cyclonedds: waitset", "err", ddsErr("wait", n))
			return
		}
		for i := 0; i < int(n) && i < len(xs); i++ {
			e := C.dds_entity_t(xs[i])
			switch e {
			case d.wake:
				C.dds_set_guardcondition(d.wake, false)
			case d.pubs:
				d.takePublications()
			case d.ppts:
				d.takeParticipants()
			default:
				d.mu.Lock()
				r := d.readers[e]
				d.mu.Unlock()
				if r != nil {
					d.takeSamples(r)
				}
			}
		}
	}
}

// takeSamples delivers a reader's samples to the bus. Delivery blocks
// while a bus reader's queue is full: the DDS reader's history (keep-last
// 100) is then what absorbs a burst, as in DDS-era SAL.
func (d *Domain) takeSamples(r *reader) {
	for d.ctx.Err() == nil {
		n := C.ts_take(r.entity, r.take)
		if n <= 0 {
			if n < 0 {
				d.Failed.Add(1)
			}
			return
		}
		type taken struct {
			s     *sal.Sample
			stamp int64
		}
		var batch []taken
		for i := C.int(0); i < C.int(n); i++ {
			if C.ts_valid(r.take, i) != 0 {
				batch = append(batch, taken{decode(r.layout, C.ts_sample(r.take, i)), int64(C.ts_stamp(r.take, i))})
			}
		}
		C.ts_return(r.entity, r.take, n)
		// A take returns an indexed topic's samples instance by instance;
		// the bus delivers them in the order they were written.
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].stamp < batch[j].stamp })
		for _, tk := range batch {
			s := tk.s
			if _, err := d.bus.Deliver(d.ctx, d.cfg.Domain, r.prefix, s); err != nil {
				return
			}
			d.Received.Add(1)
		}
	}
}

// takePublications records the SAL topics others publish on the domain
// and reads those local bus readers want.
func (d *Domain) takePublications() {
	var t C.ts_take_t
	for {
		n := C.ts_take(d.pubs, &t)
		if n <= 0 {
			return
		}
		type pub struct {
			typeName   string
			partitions []string
		}
		var found []pub
		for i := C.int(0); i < C.int(n); i++ {
			s := C.ts_sample(&t, i)
			if C.ts_valid(&t, i) == 0 || C.ts_alive(&t, i) == 0 || C.ts_pub_participant_is(s, &d.guid) != 0 {
				continue
			}
			p := pub{typeName: C.GoString(C.ts_pub_type(s))}
			var n C.size_t
			if cs := C.ts_pub_partitions(s, &n); cs != nil {
				p.partitions = strings.Split(C.GoStringN(cs, C.int(n)), "\x00")
				C.free(unsafe.Pointer(cs))
			} else {
				p.partitions = []string{""}
			}
			found = append(found, p)
		}
		C.ts_return(d.pubs, &t, n)
		d.mu.Lock()
		for _, p := range found {
			csc, name, rev, ok := ParseTypeName(p.typeName)
			if !ok {
				continue
			}
			for _, part := range p.partitions {
				wt := want{csc, name, part}
				if !slices.Contains(d.published[wt], rev) {
					d.published[wt] = append(d.published[wt], rev)
					d.log.Debug("cyclonedds: publication", "type", p.typeName, "partition", part)
				}
				if _, ok := d.wants[wt]; ok && !d.closed {
					d.read(wt, rev)
				}
			}
		}
		d.mu.Unlock()
	}
}

// takeParticipants keeps the set of other participants alive on the domain.
func (d *Domain) takeParticipants() {
	var t C.ts_take_t
	for {
		n := C.ts_take(d.ppts, &t)
		if n <= 0 {
			return
		}
		d.mu.Lock()
		for i := C.int(0); i < C.int(n); i++ {
			s := C.ts_sample(&t, i)
			if s == nil || C.ts_participant_is(s, &d.guid) != 0 {
				continue
			}
			var key [16]byte
			C.ts_participant_key(s, (*C.uchar)(unsafe.Pointer(&key[0])))
			if C.ts_alive(&t, i) != 0 {
				d.peers[key] = true
			} else {
				delete(d.peers, key)
			}
		}
		d.mu.Unlock()
		C.ts_return(d.ppts, &t, n)
	}
}
