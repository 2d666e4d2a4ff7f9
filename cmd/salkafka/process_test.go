package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestProcessLifecycle runs the built binary as deployed: it becomes
// ready, adds the CSCs its --file gains on SIGHUP, and on SIGTERM flushes
// every record in flight and exits 0 within ts_salkafka's 5 s.
func TestProcessLifecycle(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "salkafka")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	file := filepath.Join(dir, "groups.yaml")
	if err := os.WriteFile(file, []byte("- component: ATDome\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base, admin, metrics := freePort(t), freePort(t), freePort(t)
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command(bin, "--broker", c.ListenAddrs()[0], "--registry", reg.URL(), "--replication-factor", "1",
		"--file", file, "--dds-base-port", strconv.Itoa(base), "--ready-file", ready,
		"--admin", "127.0.0.1:"+strconv.Itoa(admin), "--metrics", "127.0.0.1:"+strconv.Itoa(metrics), "--loglevel", "30")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, "the readiness file", func() bool { _, err := os.Stat(ready); return err == nil })

	// SIGHUP re-reads the file and adds what it gained.
	if err := os.WriteFile(file, []byte("- component: ATDome\n- component: Test:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "Test:1 after SIGHUP", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/components")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var got struct{ Components []string }
		json.NewDecoder(resp.Body).Decode(&got)
		return strings.Join(got.Components, ",") == "ATDome,Test:1"
	})

	// SIGTERM right after a burst: every record is flushed, exit 0.
	ifaces, _ := sal.Load(sample.FS, sal.Avro(sample.Avro))
	bus := dds.NewBus()
	defer bus.Close()
	link, err := dds.Join(ctx, bus, dds.LinkConfig{Domain: 0, Interfaces: ifaces, BasePort: base})
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	pos := ifaces.Topic("ATDome", "position")
	if _, err := mocksal.Run(ctx, bus, mocksal.WriterConfig{Topic: pos, Count: 300}, nil); err != nil {
		t.Fatal(err)
	}
	// The link has delivered what it carries once the process has read
	// every sample; what it has not produced yet is in flight.
	waitFor(t, "300 samples read by the process", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(metrics) + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `salkafka_samples_read_total{csc="ATDome",topic="position"} 300`+"\n")
	})
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %s to stop", took)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 10 s after SIGTERM")
	}
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, pos.KafkaTopic(""))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup(pos.KafkaTopic(""), 0); o.Offset != 300 {
		t.Errorf("%d of 300 records in Kafka after SIGTERM", o.Offset)
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Error("readiness file left behind")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	c := wait.ForCondition(what, func(context.Context) error {
		if !ok() {
			return errors.New("not yet")
		}
		return nil
	}).WithTimeout(30 * time.Second)
	c.Interval = 20 * time.Millisecond
	if err := c.WaitUntilReady(context.Background()); err != nil {
		t.Fatal(err)
	}
}
