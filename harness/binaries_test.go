package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
)

// TestStartBinary: a component's binary that dies before it is ready
// ends the wait at once, with its output, and is not registered; one
// that becomes ready is registered with its endpoints.
func TestStartBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := &Env{Stand: &Stand{Backend: Embedded}, components: map[string]*component{}}
	var err error
	if e.backend, err = newBackend(e, UpOptions{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	err = e.startBinary(ctx, binaryComponent{
		name: "broken", kind: "REST proxy", binary: "restproxy", run: Binary, // no --brokers: exits 2
		ready: wait.ForHTTP("http://127.0.0.1:1/healthz").WithTimeout(time.Minute),
	})
	switch {
	case err == nil:
		t.Fatal("a binary that exits started")
	case !strings.Contains(err.Error(), "REST proxy broken: ") || !strings.Contains(err.Error(), "--brokers is required"):
		t.Errorf("error %q: want the component named and the binary's output", err)
	case e.component("broken") != nil:
		t.Error("a binary that never became ready is registered")
	}
	// Building the binary may take a while; the wait itself ends at once.
	if took := time.Since(start); took > 50*time.Second {
		t.Errorf("the wait took %s: it should end when the binary exits", took)
	}

	ready := t.TempDir() + "/ready"
	err = e.startBinary(ctx, binaryComponent{
		name: "sleeper", kind: "producer", binary: "salkafka", run: Binary,
		args:  []string{"--broker", "127.0.0.1:1", "--registry", "http://127.0.0.1:1", "--ready-file", ready, "ATDome"},
		ready: wait.ForCondition("started", func(context.Context) error { return nil }), metricsURL: "http://m", adminURL: "http://a",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.component("sleeper")
	if c == nil || c.kind != "producer" || c.metricsURL != "http://m" || c.adminURL != "http://a" || c.proc == nil {
		t.Fatalf("registered %+v", c)
	}
	c.cancel()
}
