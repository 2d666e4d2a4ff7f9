package host

import (
	"github.com/lsst-ts/teststand/internal/modroot"

	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/internal/proc"
)

// builds caches binaries built from this module, one build per process.
var builds struct {
	sync.Mutex
	dir  string
	done map[string]error
}

// Command returns the path of one of the project's commands ("salkafka",
// "mocksal"). Inside the source tree it is built from the sources with the
// go tool (cached by Go's build cache), so a stand never runs a stale
// binary; elsewhere it is found next to the running executable or on PATH.
func Command(ctx context.Context, name string) (string, error) {
	if root := ModuleRoot(); root != "" {
		if goTool, err := exec.LookPath("go"); err == nil {
			return build(ctx, goTool, root, name)
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

// build builds ./cmd/name of the module at root, once per process.
func build(ctx context.Context, goTool, root, name string) (string, error) {
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
		args := []string{"build", "-o", out}
		if dds.CheckTransport(dds.CycloneDDS) == nil {
			// A program built with real DDS builds its components with it.
			args = append(args, "-tags", "cyclonedds")
		}
		cmd := exec.CommandContext(ctx, goTool, append(args, "./cmd/"+name)...)
		cmd.Dir = root
		msg, berr := cmd.CombinedOutput()
		if berr != nil {
			err = fmt.Errorf("build %s: %w\n%s", name, berr, msg)
		}
		builds.done[name] = err
	}
	return out, err
}

// ModuleRoot is the root of this project's source tree, if the working
// directory is inside it.
func ModuleRoot() string { return modroot.Dir() }

// ModuleRoots are where the tools the project builds (bin/, .cache/) are
// looked for: the working directory and its parents up to the module
// root, and the parent of the running program's directory.
func ModuleRoots() []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(filepath.Dir(exe)))
	}
	return roots
}

// StartProcess starts a binary a stand owns, with the environment plus
// env (see package proc: it dies with the stand, and with the harness).
func StartProcess(name, bin string, args, env []string) (*proc.Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return proc.Start(name, cmd)
}

// Run starts one of the project's binaries as a process on the host.
func Run(ctx context.Context, name, binary string, args, env []string) (backend.Process, error) {
	bin, err := Command(ctx, binary)
	if err != nil {
		return nil, err
	}
	return StartProcess(name, bin, args, env)
}
