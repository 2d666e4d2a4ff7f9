package harness

import (
	"context"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/internal/proc"
)

// TestSecuredStand runs the delivery features and the ACL features on the
// secured stand (SASL/SCRAM-SHA-512 over TLS, ACLs as Sasquatch's
// KafkaUsers, registries with basic auth), then claims about its users
// that their grants contradict, which must fail; and then looks for every
// secret of both runs in everything they wrote: the report, results.json,
// the logs (at debug), the features' output and the summary. None may be
// there, and the certificates' files must be gone.
func TestSecuredStand(t *testing.T) {
	var mu sync.Mutex
	var made []*standsec.Secrets
	onSecrets = func(s *standsec.Secrets) { mu.Lock(); made = append(made, s); mu.Unlock() }
	defer func() { onSecrets = nil }()
	var logs, out proc.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	good, bad := t.TempDir(), t.TempDir()
	res, err := Run(ctx, RunConfig{Stand: "../scenarios/secured.yaml", Features: []string{"../features/delivery.feature", "../conformance/secured"},
		ReportDir: good, Output: &out, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	summary := Summary(res)
	if !res.Passed {
		t.Fatalf("the secured stand failed:\n%s", summary)
	}
	wrong, err := Run(ctx, RunConfig{Stand: "../scenarios/secured.yaml", Features: []string{"testdata/secured/wrong-grants.feature"},
		ReportDir: bad, Output: &out, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	summary += Summary(wrong)
	want := map[string]string{
		"The sink's user is said to write":                         "the telegraf user may not write topic lsst.sal.ATDome.position at summit: TOPIC_AUTHORIZATION_FAILED",
		"The producer's user is said to be refused its own topics": "the ts-salkafka user was allowed to write",
		"The producer's user is said to read the replicas":         "the ts-salkafka user may not read topic summit.registry-schemas at usdf: TOPIC_AUTHORIZATION_FAILED",
	}
	for _, sc := range wrong.Results.Scenarios {
		if w, ok := want[sc.Name]; ok {
			delete(want, sc.Name)
			if sc.Status != "failed" || !strings.Contains(sc.Error, w) {
				t.Errorf("%s: %s %q, want failed with %q", sc.Name, sc.Status, sc.Error, w)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("scenarios not run: %v", want)
	}

	if len(made) < 2 {
		t.Fatalf("%d stands made secrets, want one a run at least", len(made))
	}
	checkNoSecrets(t, made, map[string]string{"logs": logs.String(), "output": out.String(), "summary": summary}, good, bad)
}

// TestSecuredProcessStand runs the secured stand on real Apache Kafka
// (scenarios/secured-process.yaml: MirrorMaker 2, Telegraf, the salkafka
// and efdsink binaries beside the in-process replicator) through the
// side-by-side and ACL features, reading every process's command line on
// the machine while it runs: no secret may be in a process listing, nor
// in anything the run wrote.
func TestSecuredProcessStand(t *testing.T) {
	var mu sync.Mutex
	var made []*standsec.Secrets
	onSecrets = func(s *standsec.Secrets) { mu.Lock(); made = append(made, s); mu.Unlock() }
	defer func() { onSecrets = nil }()
	var logs, out proc.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	listings := watchCommandLines(ctx)
	dir := t.TempDir()
	res, err := Run(ctx, RunConfig{Stand: "../scenarios/secured-process.yaml", Features: []string{"../conformance/secured-process"},
		ReportDir: dir, Output: &out, Logger: logger})
	seen := listings()
	if err != nil {
		t.Fatal(err)
	}
	summary := Summary(res)
	if !res.Passed {
		t.Fatalf("the secured process stand failed:\n%s", summary)
	}
	// The listing is not blind: it saw the binaries given their
	// passwords as files, MirrorMaker 2 and Telegraf.
	for _, w := range []string{"--password @", "org.apache.kafka.connect.mirror.MirrorMaker", "telegraf", "efdsink", "kafka.Kafka"} {
		if !strings.Contains(seen, w) {
			t.Fatalf("no process listing had %q:\n%s", w, seen)
		}
	}
	checkNoSecrets(t, made, map[string]string{"logs": logs.String(), "output": out.String(), "summary": summary, "process listings": seen}, dir)
}

// watchCommandLines reads every process's command line on the machine
// every 50 ms until the returned function is called, which returns each
// different one seen, a line each.
func watchCommandLines(ctx context.Context) func() string {
	ctx, cancel := context.WithCancel(ctx)
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range paths {
				if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
					seen[strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")] = true
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() string {
		cancel()
		<-done
		return strings.Join(slices.Sorted(maps.Keys(seen)), "\n")
	}
}

// checkNoSecrets looks for every secret the stands made in the outputs
// and in every file under dirs: none may be there, and the certificates'
// files must be gone. A secret planted in the outputs must be found.
func checkNoSecrets(t *testing.T, made []*standsec.Secrets, outputs map[string]string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			outputs[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var values []string
	for _, sc := range made {
		values = append(values, sc.Values()...)
		for _, f := range []string{sc.CAFile, sc.CertFile, sc.KeyFile} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("%s is left after the run: %v", f, err)
			}
		}
	}
	if len(made) == 0 || len(values) < len(made)*len(standsec.Roles) {
		t.Fatalf("only %d secrets of %d stands to look for", len(values), len(made))
	}
	if len(outputs["logs"]) < 10_000 {
		t.Fatalf("%d bytes of logs: too few to look in", len(outputs["logs"]))
	}
	for _, l := range leaks(outputs, values) {
		t.Errorf("a secret of the run is in %s", l)
	}
	// The search is not blind: a secret planted in the outputs is found.
	outputs["planted"] = "sasl password " + values[len(values)/2] + "\n"
	if got := leaks(outputs, values); !slices.Contains(got, "planted") {
		t.Fatalf("a planted secret was not found (found %v)", got)
	}
}

// leaks are the outputs (by name, sorted) that hold one of the values.
func leaks(outputs map[string]string, values []string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		for _, v := range values {
			if strings.Contains(outputs[name], v) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// TestProbeBatch: the write probe is a batch a broker takes as well
// formed (the length, the CRC-32C and the one record parse back), so that
// what it is answered is about its authorization and its partition.
func TestProbeBatch(t *testing.T) {
	raw := probeBatch()
	var b kmsg.RecordBatch
	if err := b.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	if int(b.Length) != len(raw)-12 || b.Magic != 2 || b.NumRecords != 1 {
		t.Fatalf("length %d of %d bytes, magic %d, %d records", b.Length, len(raw), b.Magic, b.NumRecords)
	}
	if crc := int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))); crc != b.CRC {
		t.Fatalf("CRC %x, the batch's is %x", crc, b.CRC)
	}
	var r kmsg.Record
	if err := r.ReadFrom(b.Records); err != nil || string(r.Value) != "teststand write probe" || int(r.Length) != len(b.Records)-1 {
		t.Fatalf("record %+v: %v", r, err)
	}
}
