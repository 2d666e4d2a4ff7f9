package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/lsst-ts/teststand/internal/proc"
)

// ComponentsRepo and ComponentsTag name the image of the project's
// binaries that the root Dockerfile builds.
const (
	ComponentsRepo = "teststand/components"
	ComponentsTag  = "dev"
)

// ErrNoBinaries means the static binaries the root Dockerfile copies have
// not been built.
var ErrNoBinaries = errors.New("the project's static binaries are not in .cache/containers/bin: run `make containers-images`")

// Process is a container that stops like a process (MirrorMaker 2's), or
// one of the project's binaries running in a container: host
// networking (it reaches Kafka's host listener and the stand's DDS ports
// on 127.0.0.1, as the binary would), the stand's directories mounted at
// the same paths. It stops like a process: Stop is SIGTERM with a grace,
// Kill is SIGKILL.
type Process struct {
	*Container
	done chan struct{}
	once sync.Once
}

// RunComponent builds the components image from the root Dockerfile
// (testcontainers-go FromDockerfile, kept: later runs reuse its layers) and
// runs binary with args and env in it. root is the module root, the
// build's context; dirs are bind-mounted at their own paths.
func (s *Stand) RunComponent(ctx context.Context, name, root, binary string, args, env []string, dirs ...string) (*Process, error) {
	if _, err := os.Stat(filepath.Join(root, ".cache", "containers", "bin", binary)); err != nil {
		return nil, ErrNoBinaries
	}
	envMap := map[string]string{}
	for _, kv := range env {
		k, v, _ := splitKV(kv)
		envMap[k] = v
	}
	out := &logBuffer{}
	c, err := testcontainers.Run(ctx, "",
		testcontainers.WithDockerfile(testcontainers.FromDockerfile{Context: root, Dockerfile: "Dockerfile", Repo: ComponentsRepo, Tag: ComponentsTag, KeepImage: true}),
		testcontainers.WithEntrypoint("/usr/local/bin/"+binary),
		testcontainers.WithCmd(args...),
		testcontainers.WithEnv(envMap),
		testcontainers.WithLabels(map[string]string{"org.lsst.teststand": name}),
		testcontainers.WithLogConsumers(out),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			for _, d := range dirs {
				hc.Binds = append(hc.Binds, d+":"+d)
			}
		}),
	)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("%s in a container: %w\n%s", name, err, proc.Tail(out.String(), 3000))
	}
	p := watched(&Container{Name: name, Image: ComponentsRepo + ":" + ComponentsTag, C: c, out: out})
	s.mu.Lock()
	s.containers = append(s.containers, p.Container)
	s.mu.Unlock()
	return p, nil
}

// watched is c as a Process, watched until it stops.
func watched(c *Container) *Process {
	p := &Process{Container: c, done: make(chan struct{})}
	go p.watch()
	return p
}

func splitKV(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// watch closes done once the container is no longer running; it ends
// then, or when the stand terminates the container.
func (p *Process) watch() {
	defer p.once.Do(func() { close(p.done) })
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		st, err := p.C.State(context.Background())
		if err != nil || !st.Running {
			return
		}
	}
}

// Done is closed once the container stopped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits up to grace before SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	err := p.C.Stop(context.Background(), &grace)
	select {
	case <-p.done:
	case <-time.After(grace + 5*time.Second):
	}
	return err
}

// Kill sends SIGKILL: no flush, no commit.
func (p *Process) Kill() {
	_ = withClient(context.Background(), func(cli *testcontainers.DockerClient) error {
		_, err := cli.ContainerKill(context.Background(), p.C.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"})
		return err
	})
	<-p.done
}

// Alive is nil while the container runs.
func (p *Process) Alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited\n%s", p.Name, proc.Tail(p.Logs(), 2000))
	default:
		return nil
	}
}

// Tail is the end of the container's output.
func (p *Process) Tail(n int) string { return proc.Tail(p.Logs(), n) }
