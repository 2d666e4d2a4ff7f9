package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

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

// startRunner starts one of the project's binaries for a component: as a
// process, or with run "container" in a container of the components
// image on the containers backend (host networking, the stand's temp dir
// mounted, so the same arguments serve).
func (e *Env) startRunner(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error) {
	if run == Container {
		if e.containers == nil {
			return nil, fmt.Errorf("run container: %s (this stand: %s)", inContainers, e.Stand.Backend)
		}
		root := moduleRoot()
		if root == "" {
			return nil, fmt.Errorf("run container: the module root (the components image's build context) is not found from here")
		}
		dirs := []string{e.tmp}
		if d := e.Stand.InterfacesDir(); d != "" {
			dirs = append(dirs, d)
		}
		return e.containers.stand.RunComponent(ctx, name, root, binary, args, env, dirs...)
	}
	bin, err := commandPath(ctx, binary)
	if err != nil {
		return nil, err
	}
	return startProcess(name, bin, args, env)
}
