//go:build cyclonedds

package cyclonedds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/ddstest"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func interfaces(t testing.TB) *sal.Interfaces {
	t.Helper()
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	return ifaces
}

func TestConstantsMatchHeader(t *testing.T) {
	for name, v := range cConstants() {
		if v[0] != v[1] {
			t.Errorf("%s: layout.go has %#x, dds_opcodes.h %#x", name, v[0], v[1])
		}
	}
}

// TestLayoutMatchesIdlc compiles the IDL a layout writes with Cyclone's
// own IDL compiler and a C compiler, and checks that the C struct's size
// and alignment and idlc's serializer program are the layout's.
func TestLayoutMatchesIdlc(t *testing.T) {
	for _, tool := range []string{"idlc", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (Debian's cyclonedds-tools and gcc; make test-dds installs them)", tool)
		}
	}
	ifaces := interfaces(t)
	for _, tc := range []struct{ csc, name string }{
		{"Test", "scalars"}, {"Test", "arrays"}, {"Test", "logevent_scalars"}, {"Test", "ackcmd"},
		{"ATDome", "position"}, {"ATDome", "logevent_summaryState"}, {"MTM1M3", "forceActuatorData"},
	} {
		t.Run(tc.csc+"/"+tc.name, func(t *testing.T) {
			topic := ifaces.Topic(tc.csc, tc.name)
			if topic == nil {
				t.Fatalf("no topic %s %s", tc.csc, tc.name)
			}
			l, err := NewLayout(topic)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "t.idl"), []byte(l.IDL()), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, dir, "idlc", "t.idl")
			sym := tc.csc + "_" + tc.name + "_" + l.Revcode
			ops, _, flagset, keyOp := l.Ops()
			prog := fmt.Sprintf(`#include <stdio.h>
#include "t.h"
int main(void) {
  const dds_topic_descriptor_t *d = &%s_desc;
  printf("%%u %%u %%u %%u %%d\n", d->m_size, d->m_align, d->m_flagset & ~DDS_TOPIC_XTYPES_METADATA, d->m_nops, d->m_nkeys ? (int) d->m_keys[0].m_offset : -1);
  for (int i = 0; i < %d; i++) printf("%%u\n", d->m_ops[i]);
  return 0;
}
`, sym, len(ops))
			if err := os.WriteFile(filepath.Join(dir, "main.c"), []byte(prog), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, dir, "cc", "-o", "main", "main.c", "t.c", "-lddsc")
			out := strings.Fields(run(t, dir, "./main"))
			_, nops, _, _ := l.Ops()
			want := []string{strconv.Itoa(l.Size), strconv.Itoa(l.Align), strconv.Itoa(int(flagset)), strconv.Itoa(nops), strconv.Itoa(keyOp)}
			for _, op := range ops {
				want = append(want, strconv.FormatUint(uint64(op), 10))
			}
			if !reflect.DeepEqual(out, want) {
				t.Errorf("idlc's descriptor (size align flags nops keyoffset ops...):\n%v\nthe layout's:\n%v\nIDL:\n%s", out, want, l.IDL())
			}
		})
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func join(t *testing.T, bus *dds.Bus, ifaces *sal.Interfaces, domain, base int) *Domain {
	t.Helper()
	d, err := Join(context.Background(), bus, dds.LinkConfig{Domain: domain, Interfaces: ifaces, BasePort: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.(*Domain)
}

// TestRoundTrip writes samples of every IDL type through one participant
// and reads them through another: field for field what was written, the
// revcode learned from the writer's publication.
func TestRoundTrip(t *testing.T) {
	ifaces := interfaces(t)
	base := ddstest.BasePort(t, 0)
	wbus, rbus := dds.NewBus(), dds.NewBus()
	defer wbus.Close()
	defer rbus.Close()
	join(t, wbus, ifaces, 0, base)
	rd := join(t, rbus, ifaces, 0, base)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"scalars", "arrays", "logevent_scalars", "ackcmd"} {
		topic := ifaces.Topic("Test", name)
		r, err := rbus.Subscribe(dds.ReaderConfig{Domain: 0, PartitionPrefix: "summit", Topic: topic})
		if err != nil {
			t.Fatal(err)
		}
		var sent []*sal.Sample
		for i := 0; i < 5; i++ {
			s := ddstest.EdgeSample(topic, int32(1+i%3), i)
			sent = append(sent, s)
			if _, err := wbus.Publish(ctx, 0, "summit", s); err != nil {
				t.Fatal(err)
			}
		}
		for i, want := range sent {
			got, _, err := r.Read(ctx)
			if err != nil {
				t.Fatalf("%s sample %d: %v (taken %d)", name, i, err, rd.Received.Load())
			}
			if diff := ddstest.Diff(want, got, false); diff != "" {
				t.Errorf("%s sample %d: %s", name, i, diff)
			}
		}
		r.Close()
	}
}

// TestIsolation: a sample reaches the reader of its domain and partition,
// and neither a reader of another partition nor one on another domain.
// DDS itself says so: the writer matched the one reader, and the other
// domain's participant met nobody.
func TestIsolation(t *testing.T) {
	ifaces := interfaces(t)
	base := ddstest.BasePort(t, 0, 1)
	wbus, rbus, lbus, obus := dds.NewBus(), dds.NewBus(), dds.NewBus(), dds.NewBus()
	for _, b := range []*dds.Bus{wbus, rbus, lbus, obus} {
		defer b.Close()
	}
	wd := join(t, wbus, ifaces, 0, base)
	rd := join(t, rbus, ifaces, 0, base)
	ld := join(t, lbus, ifaces, 0, base)
	od := join(t, obus, ifaces, 1, base)
	topic := ifaces.Topic("ATDome", "position")
	sub := func(b *dds.Bus, domain int, prefix string) *dds.Reader {
		r, err := b.Subscribe(dds.ReaderConfig{Domain: domain, PartitionPrefix: prefix, Topic: topic})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	summit, lab, other := sub(rbus, 0, "summit"), sub(lbus, 0, "lab"), sub(obus, 1, "summit")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 20
	for i := 0; i < n; i++ {
		if _, err := wbus.Publish(ctx, 0, "summit", ddstest.EdgeSample(topic, int32(1+i%3), i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if _, _, err := summit.Read(ctx); err != nil {
			t.Fatalf("summit reader: sample %d: %v", i, err)
		}
	}
	if lab.Len() != 0 || other.Len() != 0 || ld.Received.Load() != 0 || od.Received.Load() != 0 {
		t.Errorf("the lab partition's reader got %d, domain 1's got %d samples of the summit's", ld.Received.Load(), od.Received.Load())
	}
	w, err := wd.writer(ctx, dds.Partition("summit", topic), topic)
	if err != nil {
		t.Fatal(err)
	}
	if m := matched(w); m != 1 {
		t.Errorf("the summit writer matched %d readers, want the summit reader alone", m)
	}
	// Discovery goes on in the background: wait until domain 0's
	// participants have all met.
	for ctx.Err() == nil && (wd.Peers() < 2 || rd.Peers() < 2) {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if wd.Peers() != 2 || rd.Peers() != 2 || od.Peers() != 0 {
		t.Errorf("peers: writer %d, reader %d (want 2 each: domain 0 has three participants), domain 1 %d (want 0)", wd.Peers(), rd.Peers(), od.Peers())
	}
}

// TestPublishAfterClose: once the domain is left, a sample published on it
// fails with an error saying so (dds.ErrClosed), before and after a writer
// of its topic was made, rather than seem written.
func TestPublishAfterClose(t *testing.T) {
	ifaces := interfaces(t)
	base := ddstest.BasePort(t, 0)
	bus := dds.NewBus()
	defer bus.Close()
	d := join(t, bus, ifaces, 0, base)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	written := ifaces.Topic("Test", "scalars")
	if _, err := bus.Publish(ctx, 0, "summit", ddstest.EdgeSample(written, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []*sal.Topic{written, ifaces.Topic("Test", "arrays")} {
		_, err := bus.Publish(ctx, 0, "summit", ddstest.EdgeSample(topic, 1, 1))
		if !errors.Is(err, dds.ErrClosed) || !strings.Contains(err.Error(), "domain 0") {
			t.Errorf("%s published after Close: err %v, want one saying domain 0 was left (dds.ErrClosed)", topic.Name, err)
		}
	}
}
