package harness

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/lsst-ts/teststand/dds"
)

// TestDomainPortsClaimed: a domain joined after Up (a writer on domain 7,
// which no producer of the stand reads) has its port of the stand's
// range claimed machine-wide, as Up claimed the producer's, so that no
// other stand is handed it.
func TestDomainPortsClaimed(t *testing.T) {
	st, err := Load("../scenarios/summit-usdf.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later := 7 // a feature's domain no producer of the stand reads
	for _, p := range st.Producers {
		if p.Domain == later {
			t.Fatalf("the stand has a producer on domain %d: the test needs a domain no producer reads", later)
		}
	}
	e := &Env{Stand: st, Bus: dds.NewBus(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer e.Bus.Close()
	ctx := context.Background()
	if err := e.joinDomains(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range e.links {
			l.Close()
		}
	}()
	if err := e.joinDomain(ctx, later); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{st.Producers[0].Domain, later} {
		p := dds.Port(e.DDSBasePort, d)
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "teststand-ports", strconv.Itoa(p)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			t.Errorf("domain %d: port %d of the stand's range is not claimed: another stand could be handed it", d, p)
		}
		f.Close()
	}
}
