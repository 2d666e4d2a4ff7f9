// Package netfault puts real TCP faults between a stand's parts. A Layer
// holds named links; each link is a set of Toxiproxy proxies on loopback,
// one per upstream address, and a fault set on a link acts on every
// connection through it, open or opened later: latency with jitter, a
// bandwidth limit, a blackhole (connections stay open, nothing passes), a
// reset (every connection that sends is reset) and a partition (nothing
// passes until it heals; what was sent meanwhile is held and delivered
// then, as TCP retransmits what a partition swallowed).
//
// Clients reach a link's proxies in two ways. In-process Kafka clients
// dial through Link.Dial (franz-go's kgo.Dialer), which proxies whatever
// broker address metadata gives them; HTTP clients and other processes
// are handed a proxy's address (Link.Addr, Link.URL). A process that
// learns broker addresses from metadata (MirrorMaker 2, Telegraf) needs
// brokers that advertise the proxies' addresses on a listener of their
// own (see kafkaproc's Config.Listeners).
//
// Toxiproxy's partition-like toxics drop what they swallow: its timeout
// toxic loses bytes in the middle of a stream, which no network does to
// an open TCP connection. The partition here is a toxic of this package
// that holds bytes instead. A proxy accepts a connection at once even
// while its link is partitioned (the SYN of a real partition would go
// unanswered): clients see their requests time out rather than their
// connects, which Kafka and HTTP clients handle the same way.
package netfault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// Kind is a kind of fault.
type Kind string

const (
	// Latency delays each direction by Latency ± Jitter.
	Latency Kind = "latency"
	// Bandwidth limits each direction to Rate KB/s.
	Bandwidth Kind = "bandwidth"
	// Blackhole lets nothing through and keeps connections open; when it
	// is cleared, the connections it swallowed bytes of are closed (their
	// streams lost bytes: no client could go on with them).
	Blackhole Kind = "blackhole"
	// Reset resets every connection that sends anything (TCP RST).
	Reset Kind = "reset"
	// Partition lets nothing through until cleared; what was sent is held
	// (up to HoldLimit per connection and direction, then the sender is
	// held back) and delivered when it heals.
	Partition Kind = "partition"
)

// Kinds are the kinds of fault, in the order messages list them.
var Kinds = []Kind{Latency, Bandwidth, Blackhole, Reset, Partition}

// HoldLimit is how many bytes a partition holds per connection and
// direction before it stops reading from the sender, as a full TCP window
// would.
const HoldLimit = 8 << 20

// Fault is one fault on a link.
type Fault struct {
	Kind Kind
	// Latency and Jitter are each direction's delay (Latency).
	Latency, Jitter time.Duration
	// Rate is each direction's limit in KB/s (Bandwidth).
	Rate int64
}

// String says what the fault does, for logs and messages.
func (f Fault) String() string {
	switch f.Kind {
	case Latency:
		if f.Jitter > 0 {
			return fmt.Sprintf("latency %s ± %s", f.Latency, f.Jitter)
		}
		return fmt.Sprintf("latency %s", f.Latency)
	case Bandwidth:
		return fmt.Sprintf("bandwidth %d KB/s", f.Rate)
	}
	return string(f.Kind)
}

// check refuses a fault that is not one.
func (f Fault) check() error {
	switch f.Kind {
	case Latency:
		if f.Latency <= 0 || f.Jitter < 0 || f.Jitter > f.Latency {
			return fmt.Errorf("netfault: latency %s with jitter %s: want a positive latency and a jitter between 0 and the latency", f.Latency, f.Jitter)
		}
	case Bandwidth:
		if f.Rate <= 0 {
			return fmt.Errorf("netfault: bandwidth %d KB/s: want a positive rate", f.Rate)
		}
	case Blackhole, Reset, Partition:
	default:
		return fmt.Errorf("netfault: unknown fault %q (want one of %s)", f.Kind, kindList())
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// toxics are the Toxiproxy toxics a fault is made of, both directions.
func (f Fault) toxics() []map[string]any {
	var attrs map[string]any
	typ := string(f.Kind)
	switch f.Kind {
	case Latency:
		attrs = map[string]any{"latency": f.Latency.Milliseconds(), "jitter": f.Jitter.Milliseconds()}
	case Bandwidth:
		attrs = map[string]any{"rate": f.Rate}
	case Blackhole:
		typ, attrs = "timeout", map[string]any{"timeout": 0}
	case Reset:
		typ, attrs = "reset_peer", map[string]any{"timeout": 0}
	case Partition:
		typ, attrs = holdType, map[string]any{"limit": HoldLimit}
	}
	var out []map[string]any
	for _, dir := range []string{"upstream", "downstream"} {
		out = append(out, map[string]any{"name": string(f.Kind) + "_" + dir, "type": typ, "stream": dir, "toxicity": 1.0, "attributes": attrs})
	}
	return out
}

// Layer is a stand's fault layer: its links and their proxies.
type Layer struct {
	srv *toxiproxy.ApiServer
	mu  sync.Mutex
	// links by name, in the order they were made.
	links map[string]*Link
	names []string
	// closed refuses new proxies once Close has begun.
	closed bool
}

// New makes an empty layer.
func New() *Layer {
	return &Layer{
		srv:   toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()),
		links: map[string]*Link{},
	}
}

// Link is the link named name, made on first use. Names say where a link
// is ("summit->usdf", "influxdb@usdf"); faults are set per link.
func (l *Layer) Link(name string) *Link {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.links[name]
	if k == nil {
		k = &Link{layer: l, name: name, proxies: map[string]*toxiproxy.Proxy{}, faults: map[Kind]Fault{}}
		l.links[name] = k
		l.names = append(l.names, name)
	}
	return k
}

// Links are the names of the layer's links, in the order they were made.
func (l *Layer) Links() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

// Close stops every proxy, closing the connections through them.
func (l *Layer) Close() {
	l.mu.Lock()
	l.closed = true
	links := make([]*Link, 0, len(l.links))
	for _, k := range l.links {
		links = append(links, k)
	}
	l.mu.Unlock()
	for _, k := range links {
		k.mu.Lock()
		for _, p := range k.proxies {
			p.Stop()
		}
		k.mu.Unlock()
	}
}

// Link is one named link: its proxies, one per upstream address, and the
// faults set on it.
type Link struct {
	layer   *Layer
	name    string
	mu      sync.Mutex
	proxies map[string]*toxiproxy.Proxy // by upstream host:port
	faults  map[Kind]Fault
}

// Name is the link's name.
func (k *Link) Name() string { return k.name }

// Addr is the address of the link's proxy to upstream (host:port),
// started on a free loopback port on first use and kept for the link's
// life: a restarted server on the same address is reached again.
func (k *Link) Addr(upstream string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p := k.proxies[upstream]; p != nil {
		return p.Listen, nil
	}
	k.layer.mu.Lock()
	closed := k.layer.closed
	k.layer.mu.Unlock()
	if closed {
		return "", fmt.Errorf("netfault: link %s: the layer is closed", k.name)
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return "", fmt.Errorf("netfault: link %s: upstream %q: %w", k.name, upstream, err)
	}
	p := toxiproxy.NewProxy(k.layer.srv, fmt.Sprintf("%s %s", k.name, upstream), "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return "", fmt.Errorf("netfault: link %s: proxy to %s: %w", k.name, upstream, err)
	}
	for _, f := range k.faults {
		if err := addFault(p, f); err != nil {
			p.Stop()
			return "", fmt.Errorf("netfault: link %s: %w", k.name, err)
		}
	}
	k.proxies[upstream] = p
	return p.Listen, nil
}

// URL is raw with its host:port replaced by the link's proxy to it.
func (k *Link) URL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("netfault: link %s: %q is not a URL with a host", k.name, raw)
	}
	hostport := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		hostport = net.JoinHostPort(u.Hostname(), port)
	}
	addr, err := k.Addr(hostport)
	if err != nil {
		return "", err
	}
	u.Host = addr
	return u.String(), nil
}

// Dial dials address through the link's proxy to it: a kgo.Dialer, so
// that every broker a client learns of is reached through the link.
//
// A proxy accepts every connection and only then dials its upstream, so a
// stopped server (a killed broker) would look to the client like one that
// closed the connection at once, which Kafka clients take for a protocol
// mismatch and do not retry. Unless the link is cut (partitioned or
// blackholed, when no refusal would come back either), Dial first makes
// sure the upstream takes connections, and returns its refusal as the
// client would get it without the layer.
func (k *Link) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	addr, err := k.Addr(address)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	if !k.cut() {
		probe, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		probe.Close()
	}
	return d.DialContext(ctx, network, addr)
}

// cut reports whether the link lets nothing through.
func (k *Link) cut() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, p := k.faults[Partition]
	_, b := k.faults[Blackhole]
	return p || b
}

// Set puts fault f on the link, in place of any fault of its kind.
func (k *Link) Set(f Fault) error {
	if err := f.check(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	_, had := k.faults[f.Kind]
	for _, p := range k.proxies {
		if had {
			errs = append(errs, removeFault(p, f.Kind))
		}
		errs = append(errs, addFault(p, f))
	}
	k.faults[f.Kind] = f
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netfault: link %s: %s: %w", k.name, f, err)
	}
	return nil
}

// Clear takes the fault of kind off the link (a partition heals).
func (k *Link) Clear(kind Kind) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.faults[kind]; !ok {
		return nil
	}
	delete(k.faults, kind)
	var errs []error
	for _, p := range k.proxies {
		errs = append(errs, removeFault(p, kind))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netfault: link %s: clear %s: %w", k.name, kind, err)
	}
	return nil
}

// Faults are the faults set on the link, in the order of Kinds.
func (k *Link) Faults() []Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Fault
	for _, kind := range Kinds {
		if f, ok := k.faults[kind]; ok {
			out = append(out, f)
		}
	}
	return out
}

func addFault(p *toxiproxy.Proxy, f Fault) error {
	for _, t := range f.toxics() {
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

func removeFault(p *toxiproxy.Proxy, kind Kind) error {
	var errs []error
	for _, dir := range []string{"upstream", "downstream"} {
		errs = append(errs, p.Toxics.RemoveToxic(context.Background(), string(kind)+"_"+dir))
	}
	return errors.Join(errs...)
}

// holdType is the partition toxic's name in Toxiproxy's registry.
const holdType = "teststand_hold"

// holdToxic passes nothing while it is on: it holds what it reads, up to
// Limit bytes, then reads no more, and delivers what it holds when it is
// taken off. What it holds is the stub's state, so that another toxic
// added meanwhile (which interrupts it to chain the newcomer) does not
// let it through: only Cleanup, when the toxic is removed, delivers.
type holdToxic struct {
	Limit int `json:"limit"`
}

// held is what a holdToxic holds on one stub.
type held struct {
	chunks []*stream.StreamChunk
	size   int
}

func (t *holdToxic) NewState() any { return new(held) }

func (t *holdToxic) Pipe(stub *toxics.ToxicStub) {
	h := stub.State.(*held)
	for {
		in := stub.Input
		if h.size >= t.Limit {
			in = nil // the sender's window is full
		}
		select {
		case <-stub.Interrupt:
			return
		case c := <-in:
			if c == nil {
				stub.Close()
				return
			}
			h.chunks = append(h.chunks, c)
			h.size += len(c.Data)
		}
	}
}

// Cleanup delivers what the toxic held, as the partition heals.
func (t *holdToxic) Cleanup(stub *toxics.ToxicStub) {
	h, _ := stub.State.(*held)
	if h == nil {
		return
	}
	for _, c := range h.chunks {
		if err := stub.WriteOutput(c, 5*time.Second); err != nil {
			break
		}
	}
	h.chunks, h.size = nil, 0
}

func init() {
	toxics.Register(holdType, new(holdToxic))
}
