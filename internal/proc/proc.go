package proc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SyncBuffer is a bytes.Buffer that one goroutine may write while another
// reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is a started subprocess.
type Process struct {
	name string
	cmd  *exec.Cmd
	logs *SyncBuffer
	done chan struct{}
	err  error
}

// Start starts cmd, named name in messages, with its output kept and its
// death tied to this process's.
func Start(name string, cmd *exec.Cmd) (*Process, error) {
	p := &Process{name: name, cmd: cmd, logs: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if cmd.WaitDelay == 0 {
		// A child it left behind may hold the output open: do not wait
		// for it once the process itself has ended.
		cmd.WaitDelay = time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// PeakRSS is the process's peak resident set (VmHWM) in bytes, read while
// it runs; 0 when unknown.
func (p *Process) PeakRSS() int64 { return PeakRSSOf(p.Pid()) }

// CPUTime is the user and system time the process has used so far; 0 when
// unknown.
func (p *Process) CPUTime() time.Duration { return CPUTimeOf(p.Pid()) }

// PeakRSSOf is a running process's peak resident set (VmHWM in
// /proc/<pid>/status) in bytes; 0 when unknown.
func PeakRSSOf(pid int) int64 { return statusKB(pid, "VmHWM:") }

// RSSOf is a running process's resident set now (VmRSS) in bytes; 0 when
// unknown.
func RSSOf(pid int) int64 { return statusKB(pid, "VmRSS:") }

// statusKB is a kB field of /proc/<pid>/status in bytes.
func statusKB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}

// CPUTimeOf is the user and system time a process has used so far, from
// /proc/<pid>/stat (clock ticks of 10 ms); 0 when unknown.
func CPUTimeOf(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// ParentOf is a process's parent pid, 0 when unknown.
func ParentOf(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	var ppid int
	fmt.Sscan(f[1], &ppid)
	return ppid
}

// statFields are the fields of /proc/<pid>/stat after the command (which
// may hold spaces): the state first.
func statFields(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data)[i+1:])
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to end and returns how it ended.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM, waits up to grace, then kills.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM", p.name, grace)
	}
	return p.err
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Alive is nil while the process runs, and says how it ended otherwise.
func (p *Process) Alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.Tail(2000))
	default:
		return nil
	}
}

// Tail is the last n bytes of the process's output.
func (p *Process) Tail(n int) string { return Tail(p.logs.String(), n) }

// Tail is the last n bytes of s, marked "…" where it was cut: the end of
// a process's or a container's output for an error message.
func Tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// FreePort is a TCP port free on 127.0.0.1 now, for a process to bind a
// moment later. It is taken below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), from which every outgoing connection
// draws its local port: a port from that range (what ":0" hands out) can
// be taken by any client connecting in the seconds before a JVM binds it,
// and a Kafka node that cannot bind its controller port leaves its
// cluster without a quorum. A port is never handed out twice on the
// machine while the process that took it runs: one process remembers
// what it handed out, and it holds a lock on a file named after the port
// (in the temp dir) until it exits, which other processes' FreePort
// respects. go test runs packages in parallel, each starting its own
// Kafka JVMs; without the lock two of them could pick one port in the
// moment before either binds it.
func FreePort() (int, error) {
	low := ephemeralLow()
	portsMu.Lock()
	defer portsMu.Unlock()
	if low > minPort+1000 {
		for range 100 {
			if p := minPort + rand.IntN(low-minPort); takePort(p) {
				return p, nil
			}
		}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut[p] {
			handedOut[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("free port: none found")
}

// minPort is the lowest port FreePort hands out (above the well-known and
// most registered services' ports).
const minPort = 20000

var (
	portsMu   sync.Mutex
	handedOut = map[int]bool{}
	// claims are the port lock files this process holds, open until it
	// exits (the kernel releases the locks then, whatever the exit).
	claims []*os.File
)

// FreePorts is a base port such that base+off is free for every offset
// (0 among them or not), each claimed as FreePort claims one: for a
// process that binds a family of ports at fixed distances, such as one
// DDS discovery port per domain.
func FreePorts(offsets ...int) (int, error) {
	span := 0
	for _, off := range offsets {
		span = max(span, off)
	}
	// Below the ephemeral range where the span fits, else anywhere.
	hi := ephemeralLow()
	if hi-minPort <= span+1000 {
		hi = 65536
	}
	if hi-minPort <= span {
		return 0, fmt.Errorf("free ports: a span of %d does not fit above port %d", span, minPort)
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		base := minPort + rand.IntN(hi-minPort-span)
		ok := true
		for _, off := range offsets {
			if ok = takePort(base + off); !ok {
				break
			}
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("free ports: no base with %d free ports found", len(offsets))
}

// ClaimPort claims port p as FreePorts claims each of its ports (for this
// process and machine-wide), reporting false when p is someone's: for a
// port of a family FreePorts gave the base of that is needed only later.
func ClaimPort(p int) bool {
	portsMu.Lock()
	defer portsMu.Unlock()
	return takePort(p)
}

// takePort claims p and checks that it can be bound now; a claim that
// fails the check stays (the port is someone's).
func takePort(p int) bool {
	if handedOut[p] || !claim(p) {
		return false
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	l.Close()
	handedOut[p] = true
	return true
}

// claim takes the machine-wide claim on port p: an exclusive lock on
// <tmp>/teststand-ports/<p>.lock, held for the life of the process. It
// reports false when another running process holds it. Where the lock
// file cannot be made, it claims nothing and says true: the listen check
// alone then decides, as it did before.
func claim(p int) bool {
	dir := filepath.Join(os.TempDir(), "teststand-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	claims = append(claims, f)
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// when it cannot be read).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return n
}
