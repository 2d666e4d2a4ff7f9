package proc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
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

// TestPortClaimsAcrossProcesses: a port another running process took
// with FreePort is not claimed here, and is again once that process has
// exited (the kernel drops its locks).
func TestPortClaimsAcrossProcesses(t *testing.T) {
	if os.Getenv("PROC_TEST_CLAIM_CHILD") != "" {
		var ports []string
		for range 5 {
			p, err := FreePort()
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			ports = append(ports, strconv.Itoa(p))
		}
		fmt.Println("ports", strings.Join(ports, " "))
		io.Copy(io.Discard, os.Stdin) // hold them until the parent closes stdin
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPortClaimsAcrossProcesses$")
	cmd.Env = append(os.Environ(), "PROC_TEST_CLAIM_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ports ") {
		t.Fatalf("child said %q (%v)", line, err)
	}
	var ports []int
	for _, f := range strings.Fields(strings.TrimPrefix(line, "ports ")) {
		p, _ := strconv.Atoi(f)
		ports = append(ports, p)
	}
	for _, p := range ports {
		if claim(p) {
			t.Errorf("port %d, which the child process holds, was claimed here", p)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if !claim(p) {
			t.Errorf("port %d is still held after the child exited", p)
		}
	}
}

// TestFreePorts: every port of a family is free and none is handed out
// twice, by FreePorts or FreePort; a span wider than the port range is
// an error.
func TestFreePorts(t *testing.T) {
	offsets := []int{0, 250, 3000}
	seen := map[int]bool{}
	for range 50 {
		base, err := FreePorts(offsets...)
		if err != nil {
			t.Fatal(err)
		}
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []int{base, base + 250, base + 3000, p} {
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				t.Fatalf("port %d: %v", q, err)
			}
			l.Close()
		}
	}
	if _, err := FreePorts(0, 70000); err == nil {
		t.Error("a span wider than the port range: no error")
	}
}
