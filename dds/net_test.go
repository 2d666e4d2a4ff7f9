package dds

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/sal"
)

// freeBase finds a base port whose domains 0 and 12 are free.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base+12*DomainGain > 65000 {
			continue
		}
		ok := true
		for _, d := range []int{0, 12} {
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(Port(base, d))); err != nil {
				ok = false
			} else {
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free base port")
	return 0
}

type proc struct {
	bus  *Bus
	link *Link
}

func join(t *testing.T, ifaces *sal.Interfaces, base, domain int) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b := NewBus()
	l, err := Join(ctx, b, LinkConfig{Domain: domain, Interfaces: ifaces, BasePort: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); b.Close() })
	return &proc{b, l}
}

func waitPeers(t *testing.T, l *Link, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Peers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("link has %d peers, want %d", l.Peers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCrossProcessIsolation joins buses (standing for processes) to
// domains 0 and 12: samples cross between members of one domain, through
// the hub, and never reach another domain.
func TestCrossProcessIsolation(t *testing.T) {
	ifaces := loadSample(t)
	base := freeBase(t)
	pos := ifaces.Topic("ATDome", "position")
	a := join(t, ifaces, base, 0)
	b := join(t, ifaces, base, 0)
	c := join(t, ifaces, base, 0)
	d := join(t, ifaces, base, 12)
	hub := a
	if !a.link.Hub() {
		t.Fatal("first process on the domain is not its hub")
	}
	waitPeers(t, hub.link, 2)
	readers := map[string]*Reader{}
	for name, p := range map[string]*proc{"b": b, "c": c, "d": d, "a": a} {
		r, err := p.bus.Subscribe(ReaderConfig{Domain: map[string]int{"d": 12}[name], Topic: pos, Depth: 100})
		if err != nil {
			t.Fatal(err)
		}
		readers[name] = r
	}
	ctx := context.Background()
	want := sal.NewSample(pos)
	if err := want.Set("azimuthPosition", 42.5); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := b.bus.Publish(ctx, 0, "", want); err != nil { // b → hub a → c
			t.Fatal(err)
		}
	}
	if _, err := d.bus.Publish(ctx, 12, "", want); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for (readers["a"].Len() < 3 || readers["c"].Len() < 3) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	got := map[string]int{}
	for n, r := range readers {
		got[n] = r.Len()
	}
	wantCounts := map[string]int{"a": 3, "b": 3, "c": 3, "d": 1}
	for n, w := range wantCounts {
		if got[n] != w {
			t.Errorf("process %s: %d samples, want %d (all: %v)", n, got[n], w, got)
		}
	}
	s, _, err := readers["c"].Read(ctx)
	if err != nil || s.Get("azimuthPosition") != 42.5 {
		t.Fatalf("sample across processes: %v, %v", s.Get("azimuthPosition"), err)
	}
}

// TestHubFailover closes the hub: the remaining members elect a new one and
// samples flow again.
func TestHubFailover(t *testing.T) {
	ifaces := loadSample(t)
	base := freeBase(t)
	pos := ifaces.Topic("ATDome", "position")
	a := join(t, ifaces, base, 0)
	b := join(t, ifaces, base, 0)
	c := join(t, ifaces, base, 0)
	waitPeers(t, a.link, 2)
	a.link.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !(b.link.Hub() || c.link.Hub()) || b.link.Peers()+c.link.Peers() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no new hub after the hub left")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, _ := c.bus.Subscribe(ReaderConfig{Topic: pos})
	if _, err := b.bus.Publish(context.Background(), 0, "", sal.NewSample(pos)); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := r.Read(rctx); err != nil {
		t.Fatalf("no sample after failover: %v", err)
	}
}
