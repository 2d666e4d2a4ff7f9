package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// builds caches binaries built from this module, one build per process.
var builds struct {
	sync.Mutex
	dir  string
	done map[string]error
}

// commandPath returns the path of one of the project's commands ("salkafka",
// "mocksal"). Inside the source tree it is built from the sources with the
// go tool (cached by Go's build cache), so a stand never runs a stale
// binary; elsewhere it is found next to the running executable or on PATH.
func commandPath(ctx context.Context, name string) (string, error) {
	if root := moduleRoot(); root != "" {
		if goTool, err := exec.LookPath("go"); err == nil {
			builds.Lock()
			defer builds.Unlock()
			if builds.dir == "" {
				d, err := os.MkdirTemp("", "teststand-bin-")
				if err != nil {
					return "", err
				}
				builds.dir, builds.done = d, map[string]error{}
			}
			out := filepath.Join(builds.dir, name)
			err, ok := builds.done[name]
			if !ok {
				cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "./cmd/"+name)
				cmd.Dir = root
				msg, berr := cmd.CombinedOutput()
				if berr != nil {
					err = fmt.Errorf("build %s: %w\n%s", name, berr, msg)
				}
				builds.done[name] = err
			}
			return out, err
		}
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found next to this program or on PATH (make build puts it in ./bin)", name)
	}
	return p, nil
}

// moduleRoot is the root of this project's source tree, if the working
// directory is inside it.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			if strings.Contains(string(b), "module github.com/lsst-ts/teststand\n") {
				return d
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// process is a subprocess owned by a stand: it dies with the stand (and,
// through Pdeathsig, with the harness if the harness dies first).
type process struct {
	name string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProcess(name, bin string, args, env []string) (*process, error) {
	p := &process{name: name, logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, waits up to grace, then kills.
func (p *process) stop(grace time.Duration) error {
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

// alive is nil while the process runs, and says how it ended otherwise.
func (p *process) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.tail())
	default:
		return nil
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// tail is the end of the process's output, for error messages.
func (p *process) tail() string {
	s := p.logs.String()
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
