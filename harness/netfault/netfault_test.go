package netfault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// echo is a TCP server on loopback that writes back what it reads.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// through dials the echo server through a fresh link's proxy.
func through(t *testing.T) (*Link, net.Conn) {
	t.Helper()
	l := New()
	t.Cleanup(l.Close)
	k := l.Link("test")
	c, err := k.Dial(context.Background(), "tcp", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, c
}

// roundTrip writes msg and reads it back, within d.
func roundTrip(c net.Conn, msg []byte, d time.Duration) ([]byte, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	return got, err
}

// quiet reports whether nothing arrives on c for d (a read that times
// out), and what did arrive otherwise.
func quiet(c net.Conn, d time.Duration) (bool, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := c.Read(b[:])
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true, nil
	}
	return false, err
}

func TestNoFaultPassesEverything(t *testing.T) {
	_, c := through(t)
	msg := bytes.Repeat([]byte("x"), 64<<10)
	got, err := roundTrip(c, msg, 10*time.Second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip through a link without faults: %v", err)
	}
}

func TestLatency(t *testing.T) {
	k, c := through(t)
	if err := k.Set(Fault{Kind: Latency, Latency: 150 * time.Millisecond, Jitter: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := roundTrip(c, []byte("ping"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Each direction waits 140 ms at least: a round trip twice that.
	if rtt := time.Since(start); rtt < 280*time.Millisecond {
		t.Fatalf("round trip took %s with 150 ms ± 10 ms each way, want at least 280 ms", rtt)
	}
	if err := k.Clear(Latency); err != nil {
		t.Fatal(err)
	}
	if f := k.Faults(); len(f) != 0 {
		t.Fatalf("faults after clear: %v", f)
	}
}

func TestBandwidth(t *testing.T) {
	k, c := through(t)
	if err := k.Set(Fault{Kind: Bandwidth, Rate: 100}); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("y"), 100<<10) // 100 KB: 1 s each way at 100 KB/s
	start := time.Now()
	got, err := roundTrip(c, msg, 30*time.Second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("100 KB took %s at 100 KB/s, want about 1 s or more", took)
	}
}

func TestBlackhole(t *testing.T) {
	k, c := through(t)
	if err := k.Set(Fault{Kind: Blackhole}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	if ok, err := quiet(c, 300*time.Millisecond); !ok {
		t.Fatalf("a blackholed connection gave %v, want nothing and still open", err)
	}
	// Cleared, the connection whose bytes it swallowed is closed.
	if err := k.Clear(Blackhole); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [8]byte
	if n, err := c.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the blackhole cleared, read %q, %v; want the connection closed", b[:n], err)
	}
}

func TestReset(t *testing.T) {
	k, c := through(t)
	if err := k.Set(Fault{Kind: Reset}); err != nil {
		t.Fatal(err)
	}
	_, err := roundTrip(c, []byte("reset me"), 10*time.Second)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection under reset gave %v, want it reset", err)
	}
}

func TestPartitionHoldsAndHeals(t *testing.T) {
	k, c := through(t)
	if err := k.Set(Fault{Kind: Partition}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if ok, err := quiet(c, 300*time.Millisecond); !ok {
		t.Fatalf("a partitioned connection gave %v, want nothing", err)
	}
	// Another fault added meanwhile chains a toxic after the partition's:
	// the partition must hold on.
	if err := k.Set(Fault{Kind: Latency, Latency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if ok, err := quiet(c, 300*time.Millisecond); !ok {
		t.Fatalf("a fault added during the partition let something through: %v", err)
	}
	// A connection opened during the partition is held as well.
	c2, err := k.Dial(context.Background(), "tcp", c.RemoteAddr().String())
	if err == nil {
		defer c2.Close()
	}
	if err := k.Clear(Partition); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
		t.Fatalf("after healing read %q, %v; want what was sent during the partition", got, err)
	}
	if _, err := roundTrip(c, []byte("again"), 10*time.Second); err != nil {
		t.Fatalf("after healing: %v", err)
	}
}

func TestPartitionReachesNewProxies(t *testing.T) {
	l := New()
	defer l.Close()
	k := l.Link("test")
	if err := k.Set(Fault{Kind: Partition}); err != nil {
		t.Fatal(err)
	}
	c, err := k.Dial(context.Background(), "tcp", echo(t)) // a proxy made after the fault
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if ok, err := quiet(c, 300*time.Millisecond); !ok {
		t.Fatalf("a proxy made after the partition let data through: %v", err)
	}
}

func TestURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer srv.Close()
	l := New()
	defer l.Close()
	k := l.Link("influxdb@usdf")
	u, err := k.URL(srv.URL + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	if u == srv.URL+"/ping" || !strings.HasSuffix(u, "/ping") {
		t.Fatalf("URL %q: want the proxy's host and the same path", u)
	}
	again, _ := k.URL(srv.URL)
	if !strings.HasPrefix(u, again) {
		t.Fatalf("the same upstream got two proxies: %s and %s", u, again)
	}
	get := func() error {
		cl := http.Client{Timeout: 500 * time.Millisecond}
		resp, err := cl.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "ok /ping" {
			return errors.New("body " + string(b))
		}
		return nil
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(Fault{Kind: Blackhole}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil {
		t.Fatal("a request through a blackholed link succeeded")
	}
	if err := k.Clear(Blackhole); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("after the blackhole cleared: %v", err)
	}
}

func TestBadFaults(t *testing.T) {
	k := New().Link("x")
	for _, f := range []Fault{
		{Kind: "flood"},
		{Kind: Latency},
		{Kind: Latency, Latency: time.Millisecond, Jitter: time.Second},
		{Kind: Bandwidth},
	} {
		if err := k.Set(f); err == nil {
			t.Errorf("%+v: accepted", f)
		}
	}
	if _, err := k.Addr("no-port"); err == nil {
		t.Error("an upstream with no port was accepted")
	}
	if _, err := k.URL("/relative"); err == nil {
		t.Error("a URL with no host was accepted")
	}
}

// TestDialToAStoppedServerIsRefused: without the layer a client dialing a
// stopped server is refused; through it, it must be refused too, not
// handed a connection the proxy closes at once (which Kafka clients take
// for a protocol mismatch and give up on).
func TestDialToAStoppedServerIsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := New()
	defer l.Close()
	k := l.Link("test")
	if c, err := k.Dial(context.Background(), "tcp", addr); err == nil {
		c.Close()
		t.Fatal("a dial through the link to a stopped server was not refused")
	} else if !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dial: %v, want connection refused", err)
	}
	// Partitioned, no refusal comes back: the client meets the partition.
	if err := k.Set(Fault{Kind: Partition}); err != nil {
		t.Fatal(err)
	}
	c, err := k.Dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("dial through a partitioned link: %v, want the proxy's connection", err)
	}
	c.Close()
}
