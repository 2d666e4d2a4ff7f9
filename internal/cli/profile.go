package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
)

// ProfileDirEnv names the directory every binary of the project writes its
// profiles to when set: <name>-<pid>-<n>.cpu.pprof, one per phase, and
// <name>-<pid>.heap.pprof at its end. A stand passes the environment on to
// the binaries it starts, so one variable profiles the stand and each
// producer, replicator and sink under the same load. SIGUSR1 ends a phase:
// the CPU profile so far is written, with the goroutines' stacks beside it
// (<name>-<pid>-<n>.goroutines.txt: where a slow start is waiting), and a
// new phase begins.
const ProfileDirEnv = "TESTSTAND_PROFILE_DIR"

// Profiled runs a main's work, profiled when ProfileDirEnv is set, and
// returns its exit code. A profile that cannot be written is reported on
// stderr and the work runs unprofiled.
func Profiled(name string, run func() int) int {
	dir := os.Getenv(ProfileDirEnv)
	if dir == "" {
		return run()
	}
	p := &profiler{base: filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))}
	if err := p.start(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s: %v; running without a profile\n", name, ProfileDirEnv, err)
		return run()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-sig:
				p.phase()
			case <-done:
				return
			}
		}
	})
	code := run()
	signal.Stop(sig)
	close(done)
	wg.Wait()
	p.stop()
	if h, err := os.Create(p.base + ".heap.pprof"); err == nil {
		runtime.GC()
		pprof.WriteHeapProfile(h)
		h.Close()
	}
	return code
}

type profiler struct {
	base string
	n    int
	f    *os.File
}

func (p *profiler) start() error {
	p.n++
	f, err := os.Create(fmt.Sprintf("%s-%d.cpu.pprof", p.base, p.n))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	p.f = f
	return nil
}

func (p *profiler) stop() {
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	p.f.Close()
	p.f = nil
}

// phase writes the phase's CPU profile and the goroutines, and starts the
// next phase.
func (p *profiler) phase() {
	p.stop()
	if g, err := os.Create(fmt.Sprintf("%s-%d.goroutines.txt", p.base, p.n)); err == nil {
		pprof.Lookup("goroutine").WriteTo(g, 2)
		g.Close()
	}
	p.start()
}
