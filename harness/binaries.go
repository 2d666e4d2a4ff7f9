package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
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

// startProcess starts a binary a stand owns, with the environment plus env
// (see package proc: it dies with the stand, and with the harness).
func startProcess(name, bin string, args, env []string) (*proc.Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return proc.Start(name, cmd)
}

// startRunner starts one of the project's binaries for a component on
// the stand's backend: as a process, or with run "container" in a
// container of the components image (containers backend).
func (e *Env) startRunner(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error) {
	return e.backend.Run(ctx, name, binary, args, env, run)
}

// startHostRunner starts one of the project's binaries as a process on
// the host.
func startHostRunner(ctx context.Context, name, binary string, args, env []string) (runner, error) {
	bin, err := commandPath(ctx, binary)
	if err != nil {
		return nil, err
	}
	return startProcess(name, bin, args, env)
}

// binaryGrace is how long a component's binary has to stop on SIGTERM
// before it is killed.
const binaryGrace = 5 * time.Second

// binaryComponent is a component run as one of the project's binaries.
type binaryComponent struct {
	name string
	// kind names it in messages and in the stand ("producer", "sink",
	// "REST proxy").
	kind string
	// binary is the command (salkafka, efdsink, restproxy), run with args
	// and the environment plus env, as run says (Binary or Container).
	binary    string
	args, env []string
	run       RunMode
	// ready is ready once the binary is; it is told the binary's Alive,
	// so that a binary that dies ends the wait at once.
	ready wait.Watched
	// metricsURL and adminURL are the binary's endpoints, if any.
	metricsURL, adminURL string
}

// startBinary starts b's binary, waits until it is ready, stopping it
// when it is not, and registers it as a component of the stand: every
// component run as a binary or container starts here.
func (e *Env) startBinary(ctx context.Context, b binaryComponent) error {
	what := b.kind + " " + b.name
	pr, err := e.startRunner(ctx, what, b.binary, b.args, b.env, b.run)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	b.ready.Watch(pr.Alive)
	if err := b.ready.WaitUntilReady(ctx); err != nil {
		pr.Stop(binaryGrace)
		return fmt.Errorf("%s: %w\n%s", what, err, pr.Tail(2000))
	}
	e.register(&component{
		name: b.name, kind: b.kind, proc: pr, done: pr.Done(),
		cancel:     func() { pr.Stop(binaryGrace) },
		metricsURL: b.metricsURL, adminURL: b.adminURL,
	})
	return nil
}
