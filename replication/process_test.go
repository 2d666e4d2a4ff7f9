package replication

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/wait"
)

// TestRunProcessMetrics runs the mirror process from a properties file and
// scrapes its metrics endpoint: records, lag and heartbeats are there.
func TestRunProcessMetrics(t *testing.T) {
	summit, usdf := cluster(t), cluster(t)
	ctx := context.Background()
	prod := client(t, summit)
	if _, err := kadm.NewClient(prod).CreateTopic(ctx, 2, 1, nil, "lsst.sal.ATDome.position"); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lsst.sal.ATDome.position", Key: []byte{byte(i)}, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "mm2.properties")
	text := "clusters = summit, usdf\n" +
		"summit.bootstrap.servers = " + strings.Join(summit.ListenAddrs(), ",") + "\n" +
		"usdf.bootstrap.servers = " + strings.Join(usdf.ListenAddrs(), ",") + "\n" +
		"summit->usdf.enabled = true\nsummit->usdf.topics = lsst\\\\.sal\\\\..*\n" +
		"emit.heartbeats.interval.seconds = 0.1\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rateInterval = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- RunProcess(rctx, ProcessConfig{ConfigFile: path, MetricsAddr: addr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	consumeAll(t, usdf, "summit.lsst.sal.ATDome.position", 10)
	want := []string{
		`mirror_records_total{partition="0",source="summit",target="usdf",topic="summit.lsst.sal.ATDome.position"}`,
		`mirror_lag_records{partition="1",source="summit",target="usdf",topic="summit.lsst.sal.ATDome.position"} 0`,
		`mirror_heartbeats_total{source="usdf",target="summit"}`,
		`mirror_replication_latency_seconds_bucket{`,
		`mirror_records_per_second{source="summit",target="usdf"}`,
	}
	// The lag and rate series are set as batches are acknowledged, a
	// moment after the records are readable at the target.
	var body string
	scraped := wait.ForCondition("every metric", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return fmt.Errorf("no %s", w)
			}
		}
		return nil
	}).WithTimeout(10 * time.Second)
	if scraped.WaitUntilReady(rctx) == nil {
		return
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}
