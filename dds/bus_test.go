package dds

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func loadSample(t testing.TB) *sal.Interfaces {
	t.Helper()
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	return ifaces
}

func TestPartition(t *testing.T) {
	ifaces := loadSample(t)
	cases := []struct {
		prefix, csc, topic, want string
	}{
		{"summit", "ATDome", "position", "summit.ATDome.data"},
		{"summit", "ATDome", "logevent_summaryState", "summit.ATDome.data"},
		{"summit", "ATDome", "ackcmd", "summit.ATDome.data"},
		{"summit", "ATDome", "command_start", "summit.ATDome.cmd"},
		{"", "ATDome", "command_start", "ATDome.cmd"},
	}
	for _, c := range cases {
		if got := Partition(c.prefix, ifaces.Topic(c.csc, c.topic)); got != c.want {
			t.Errorf("Partition(%q, %s.%s) = %q, want %q", c.prefix, c.csc, c.topic, got, c.want)
		}
	}
}

// TestIsolation publishes on several domains and partition prefixes: a
// reader receives only samples of its own domain, prefix, topic and index.
func TestIsolation(t *testing.T) {
	ifaces := loadSample(t)
	pos := ifaces.Topic("ATDome", "position")
	hexa := ifaces.Topic("MTHexapod", "application")
	if hexa == nil {
		for _, tp := range ifaces.Component("MTHexapod").Topics {
			if tp.Kind == sal.Telemetry {
				hexa = tp
				break
			}
		}
	}
	b := NewBus()
	defer b.Close()
	type rd struct {
		name string
		cfg  ReaderConfig
		want int
	}
	readers := []rd{
		{"domain 0", ReaderConfig{Domain: 0, Topic: pos}, 2},
		{"domain 12", ReaderConfig{Domain: 12, Topic: pos}, 1},
		{"domain 0 summit prefix", ReaderConfig{Domain: 0, PartitionPrefix: "summit", Topic: pos}, 1},
		{"hexapod all indices", ReaderConfig{Domain: 0, Topic: hexa}, 2},
		{"hexapod index 2", ReaderConfig{Domain: 0, Topic: hexa, Index: 2}, 1},
	}
	subs := make([]*Reader, len(readers))
	for i, r := range readers {
		s, err := b.Subscribe(r.cfg)
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	ctx := context.Background()
	publish := func(domain int, prefix string, s *sal.Sample) {
		if _, err := b.Publish(ctx, domain, prefix, s); err != nil {
			t.Fatal(err)
		}
	}
	publish(0, "", sal.NewSample(pos))
	publish(0, "", sal.NewSample(pos))
	publish(12, "", sal.NewSample(pos))
	publish(0, "summit", sal.NewSample(pos))
	for _, idx := range []int32{1, 2} {
		s := sal.NewSample(hexa)
		if err := s.Set("salIndex", idx); err != nil {
			t.Fatal(err)
		}
		publish(0, "", s)
	}
	for i, r := range readers {
		if got := subs[i].Len(); got != r.want {
			t.Errorf("%s: %d samples queued, want %d", r.name, got, r.want)
		}
	}
}

// TestFullQueueBlocks checks that a full reader queue blocks the writer
// instead of dropping, and that reading releases it.
func TestFullQueueBlocks(t *testing.T) {
	ifaces := loadSample(t)
	pos := ifaces.Topic("ATDome", "position")
	b := NewBus()
	defer b.Close()
	r, err := b.Subscribe(ReaderConfig{Topic: pos, Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if _, err := b.Publish(ctx, 0, "", sal.NewSample(pos)); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := b.Publish(short, 0, "", sal.NewSample(pos)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish into a full queue: err %v, want it to block until the deadline", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Publish(ctx, 0, "", sal.NewSample(pos))
		done <- err
	}()
	if _, rcv, err := r.Read(ctx); err != nil || rcv <= 0 {
		t.Fatalf("read: %v, rcvStamp %v", err, rcv)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("writer still blocked after a read freed a slot")
	}
	if r.Len() != 2 {
		t.Fatalf("queue holds %d, want 2", r.Len())
	}
	r.Close()
	if _, _, err := r.Read(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}
