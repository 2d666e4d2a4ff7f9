package dds

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/sal"
)

// The RTPS port mapping gives domain d the discovery port PB + DG·d with
// PB = 7400 and DG = 250. A domain's processes meet on that port on the
// loopback interface, so domains are isolated by construction: a process
// on domain 12 never connects to domain 0's port.
const (
	DefaultBasePort = 7400
	DomainGain      = 250
)

// BasePortEnv overrides DefaultBasePort, so that several independent
// stands (parallel test runs) on one machine never meet.
const BasePortEnv = "TESTSTAND_DDS_BASE_PORT"

// BasePort is $TESTSTAND_DDS_BASE_PORT, or DefaultBasePort.
func BasePort() int {
	if v, err := strconv.Atoi(os.Getenv(BasePortEnv)); err == nil && v > 0 {
		return v
	}
	return DefaultBasePort
}

// Port is domain's meeting port for a base port.
func Port(base, domain int) int { return base + DomainGain*domain }

// hello opens every connection: protocol name and version, then the domain.
const hello = "teststand-dds/1"

// LinkConfig configures a Join.
type LinkConfig struct {
	// Domain is the DDS domain id joined.
	Domain int
	// Interfaces decode samples that arrive from other processes.
	Interfaces *sal.Interfaces
	// BasePort is the port of domain 0; 0 means BasePort().
	BasePort int
	// Logger receives the link's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Link carries one domain of a bus to the other processes on that domain.
// The first process to bind the domain's port is its hub: it relays every
// sample to the others. When the hub goes away, the others elect a new one
// by binding again.
type Link struct {
	cfg  LinkConfig
	bus  *Bus
	log  *slog.Logger
	port int

	mu    sync.Mutex
	peers map[*peer]bool
	hub   bool
	up    chan struct{} // closed once connected (as hub or to a hub)

	// Sent and Received count samples crossing the link; Unsent counts
	// samples written while no connection existed.
	Sent, Received, Unsent, Undecodable atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type peer struct {
	conn net.Conn
	mu   sync.Mutex
	w    *bufio.Writer
}

func (p *peer) write(frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(frame); err != nil {
		return err
	}
	return p.w.Flush()
}

// Join connects bus's domain to the other processes on it and returns once
// connected (or ctx ends). Close leaves the domain.
func Join(ctx context.Context, bus *Bus, cfg LinkConfig) (*Link, error) {
	if cfg.Interfaces == nil {
		return nil, errors.New("dds: Join needs the interfaces to decode samples")
	}
	if cfg.BasePort == 0 {
		cfg.BasePort = BasePort()
	}
	port := Port(cfg.BasePort, cfg.Domain)
	if cfg.Domain < 0 || port > 65535 {
		return nil, fmt.Errorf("dds: domain %d has no port (base %d)", cfg.Domain, cfg.BasePort)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &Link{cfg: cfg, bus: bus, log: log.With("domain", cfg.Domain, "port", port), port: port,
		peers: map[*peer]bool{}, up: make(chan struct{}), cancel: cancel}
	bus.AddForwarder(cfg.Domain, l.forward)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.maintain(lctx)
	}()
	select {
	case <-l.up:
		return l, nil
	case <-ctx.Done():
		l.Close()
		return nil, fmt.Errorf("dds: join domain %d: %w", cfg.Domain, ctx.Err())
	}
}

// Hub reports whether this process is the domain's hub.
func (l *Link) Hub() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hub
}

// Peers is the number of connections (other processes for a hub, 1 for a
// connected member).
func (l *Link) Peers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.peers)
}

// Close leaves the domain and waits for the link's goroutines.
func (l *Link) Close() error {
	l.cancel()
	l.mu.Lock()
	for p := range l.peers {
		p.conn.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return nil
}

// maintain is hub or member in turn until ctx ends.
func (l *Link) maintain(ctx context.Context) {
	var upOnce sync.Once
	markUp := func() { upOnce.Do(func() { close(l.up) }) }
	for ctx.Err() == nil {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", l.port))
		if err == nil {
			l.mu.Lock()
			l.hub = true
			l.mu.Unlock()
			l.log.Debug("dds: hub of the domain")
			markUp()
			l.serve(ctx, ln)
			l.mu.Lock()
			l.hub = false
			l.mu.Unlock()
			continue
		}
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", l.port))
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		p, err := l.handshake(conn, true)
		if err != nil {
			l.log.Warn("dds: domain port answered by something else", "err", err)
			conn.Close()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		markUp()
		l.readFrom(ctx, p, false)
	}
}

func (l *Link) serve(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := l.handshake(conn, false)
			if err != nil {
				l.log.Warn("dds: rejected a connection", "err", err)
				conn.Close()
				return
			}
			l.readFrom(ctx, p, true)
		}()
	}
}

// handshake exchanges hello lines and registers the peer.
func (l *Link) handshake(conn net.Conn, dialer bool) (*peer, error) {
	line := fmt.Sprintf("%s domain=%d\n", hello, l.cfg.Domain)
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, line); err != nil {
		return nil, err
	}
	got := make([]byte, len(line))
	if _, err := io.ReadFull(conn, got); err != nil {
		return nil, err
	}
	if string(got) != line {
		return nil, fmt.Errorf("handshake %q, want %q", got, line)
	}
	conn.SetDeadline(time.Time{})
	p := &peer{conn: conn, w: bufio.NewWriterSize(conn, 64<<10)}
	l.mu.Lock()
	l.peers[p] = true
	l.mu.Unlock()
	return p, nil
}

// readFrom delivers p's samples to the local bus; a hub also relays them
// to its other peers.
func (l *Link) readFrom(ctx context.Context, p *peer, relay bool) {
	defer func() {
		l.mu.Lock()
		delete(l.peers, p)
		l.mu.Unlock()
		p.conn.Close()
	}()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			p.conn.Close()
		case <-done:
		}
	}()
	r := bufio.NewReaderSize(p.conn, 64<<10)
	for {
		frame, err := readFrame(r)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.EOF) {
				l.log.Debug("dds: peer gone", "err", err)
			}
			return
		}
		if relay {
			l.broadcast(frame, p)
		}
		prefix, s, err := l.decode(frame)
		if err != nil {
			l.Undecodable.Add(1)
			l.log.Warn("dds: sample not decoded", "err", err)
			continue
		}
		l.Received.Add(1)
		if _, err := l.bus.Deliver(ctx, l.cfg.Domain, prefix, s); err != nil {
			return
		}
	}
}

// forward is the bus forwarder: it sends a locally written sample to every
// connection.
func (l *Link) forward(ctx context.Context, prefix string, s *sal.Sample) error {
	frame, err := encodeFrame(prefix, s)
	if err != nil {
		return err
	}
	if l.broadcast(frame, nil) == 0 {
		l.mu.Lock()
		hub := l.hub
		l.mu.Unlock()
		if !hub { // a member between hubs: the sample cannot leave
			l.Unsent.Add(1)
		}
		return nil
	}
	l.Sent.Add(1)
	return nil
}

// broadcast writes frame to every peer but except and returns how many
// took it. A blocked peer blocks the writer: backpressure, not loss.
func (l *Link) broadcast(frame []byte, except *peer) int {
	l.mu.Lock()
	peers := make([]*peer, 0, len(l.peers))
	for p := range l.peers {
		if p != except {
			peers = append(peers, p)
		}
	}
	l.mu.Unlock()
	n := 0
	for _, p := range peers {
		if err := p.write(frame); err == nil {
			n++
		}
	}
	return n
}

// A frame is uvarint(length) then: prefix, CSC and topic name as
// uvarint-length strings, then the sample's Avro binary encoding.
func encodeFrame(prefix string, s *sal.Sample) ([]byte, error) {
	body := make([]byte, 0, 256)
	for _, str := range []string{prefix, s.Topic.CSC, s.Topic.Name} {
		body = binary.AppendUvarint(body, uint64(len(str)))
		body = append(body, str...)
	}
	body, err := s.Topic.AppendAvro(body, s)
	if err != nil {
		return nil, err
	}
	frame := binary.AppendUvarint(make([]byte, 0, len(body)+5), uint64(len(body)))
	return append(frame, body...), nil
}

// maxFrame bounds a frame (the largest SAL samples are tens of kB).
const maxFrame = 16 << 20

func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	frame := binary.AppendUvarint(make([]byte, 0, n+5), n)
	return append(frame, body...), nil
}

func (l *Link) decode(frame []byte) (string, *sal.Sample, error) {
	_, k := binary.Uvarint(frame)
	b := frame[k:]
	var strs [3]string
	for i := range strs {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", nil, errors.New("short frame")
		}
		strs[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	t := l.cfg.Interfaces.Topic(strs[1], strs[2])
	if t == nil {
		return "", nil, fmt.Errorf("%s.%s is not in this process's interfaces", strs[1], strs[2])
	}
	s, err := t.DecodeAvro(b)
	return strs[0], s, err
}
