package proc

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestProcess(t *testing.T) {
	cases := []struct {
		name   string
		script string
		stop   func(p *Process) error
		alive  string // what Alive says afterwards
	}{
		{"stopped by SIGTERM", "echo started; exec sleep 30", func(p *Process) error { return p.Stop(5 * time.Second) }, "exited"},
		{"ignores SIGTERM, killed", "trap '' TERM; echo started; sleep 30", func(p *Process) error {
			if err := p.Stop(200 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "did not stop") {
				t.Errorf("Stop: %v, want it to say the process did not stop", err)
			}
			return nil
		}, "signal: killed"},
		{"killed", "echo started; exec sleep 30", func(p *Process) error { p.Kill(); return nil }, "signal: killed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Start("sh", exec.Command("sh", "-c", c.script))
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.Tail(100), "started"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no output")
				}
			}
			if err := p.Alive(); err != nil {
				t.Fatalf("Alive while running: %v", err)
			}
			_ = c.stop(p)
			select {
			case <-p.Done():
			default:
				t.Fatal("not done after stopping")
			}
			if err := p.Alive(); err == nil || !strings.Contains(err.Error(), c.alive) || !strings.Contains(err.Error(), "started") {
				t.Errorf("Alive after: %v, want %q and the output", err, c.alive)
			}
		})
	}
	if port, err := FreePort(); err != nil || port <= 0 {
		t.Errorf("FreePort: %d, %v", port, err)
	}
}

// TestFreePort: ports are bindable, below the kernel's ephemeral range
// (where outgoing connections would take them), and never handed out
// twice.
func TestFreePort(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 300 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if low > minPort+1000 && (p < minPort || p >= low) {
			t.Fatalf("port %d outside [%d, %d)", p, minPort, low)
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		l.Close()
	}
}
