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

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/internal/proc"
)

// TestSecuredStand runs the delivery features and the ACL features on the
// secured stand (SASL/SCRAM-SHA-512 over TLS, ACLs as Sasquatch's
// KafkaUsers, registries with basic auth, an InfluxDB of its own with
// authentication on), then claims about its users that their grants
// contradict, which must fail; and then looks for every secret of both
// runs in everything they wrote: the report, results.json, the logs (at
// debug), the features' output and the summary. None may be there, and
// the certificates' files must be gone. Before the features run, the
// site's InfluxDB is asked directly: it refuses a query without
// credentials and one with a wrong password, and answers the run's.
func TestSecuredStand(t *testing.T) {
	secrets := captureSecrets(t)
	var logs, out proc.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	good, bad := t.TempDir(), t.TempDir()
	influxChecked := 0
	checkInflux := func(e *Env) error {
		for _, name := range e.Stand.SiteNames() {
			se := e.Sites[name]
			if e.Stand.Sites[name].InfluxDB == nil {
				continue
			}
			influxChecked++
			c := se.Influx()
			if c.Username != e.sec.InfluxUser || c.Password != e.sec.InfluxPassword || se.dbPrefix != "" {
				t.Errorf("site %s: InfluxDB client as %q, database prefix %q: want the run's InfluxDB user on an influxd of the stand's own", name, c.Username, se.dbPrefix)
			}
			if _, err := c.Anonymous().Query(ctx, "", "SHOW DATABASES"); !influxd.Unauthorized(err) {
				t.Errorf("site %s: a query without credentials: %v, want a 401", name, err)
			}
			wrong := *c
			wrong.Password = "wrong"
			if _, err := wrong.Query(ctx, "", "SHOW DATABASES"); !influxd.Unauthorized(err) {
				t.Errorf("site %s: a query with a wrong password: %v, want a 401", name, err)
			}
			if dbs, err := c.Databases(ctx); err != nil || !slices.Contains(dbs, "efd") {
				t.Errorf("site %s: the run's user lists databases %v, %v: want efd", name, dbs, err)
			}
		}
		return nil
	}
	res, err := Run(ctx, RunConfig{Stand: "../scenarios/secured.yaml", Features: []string{"../features/delivery.feature", "../conformance/secured"},
		ReportDir: good, Output: &out, Logger: logger, Prepare: checkInflux})
	if err != nil {
		t.Fatal(err)
	}
	if influxChecked == 0 {
		t.Error("no site's InfluxDB was checked")
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

	if len(secrets()) < 2 {
		t.Fatalf("%d stands made secrets, want one a run at least", len(secrets()))
	}
	checkNoSecrets(t, secrets(), map[string]string{"logs": logs.String(), "output": out.String(), "summary": summary}, good, bad)
}

// TestSecuredProcessStand runs the secured stand on real Apache Kafka
// (scenarios/secured-process.yaml: MirrorMaker 2, Telegraf, the salkafka
// and efdsink binaries beside the in-process replicator) through the
// side-by-side and ACL features, reading every process's command line on
// the machine while it runs: no secret may be in a process listing, nor
// in anything the run wrote.
func TestSecuredProcessStand(t *testing.T) {
	secrets := captureSecrets(t)
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
	checkNoSecrets(t, secrets(), map[string]string{"logs": logs.String(), "output": out.String(), "summary": summary, "process listings": seen}, dir)
}

// captureSecrets collects the secrets of every stand made until the test
// ends; the returned function gives those made so far.
func captureSecrets(t *testing.T) func() []*standsec.Secrets {
	var mu sync.Mutex
	var made []*standsec.Secrets
	onSecrets = func(s *standsec.Secrets) { mu.Lock(); made = append(made, s); mu.Unlock() }
	t.Cleanup(func() { onSecrets = nil })
	return func() []*standsec.Secrets { mu.Lock(); defer mu.Unlock(); return slices.Clone(made) }
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
		if !slices.Contains(sc.Values(), sc.InfluxPassword) || sc.InfluxPassword == "" {
			t.Error("the InfluxDB password is not among the secrets looked for")
		}
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
	outputs["planted"] = "influxdb password " + made[0].InfluxPassword + "\n"
	if got := leaks(outputs, values); !slices.Contains(got, "planted") {
		t.Fatalf("a planted InfluxDB password was not found (found %v)", got)
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

// TestSinkBinaryInfluxAuth: the sink binary is given its site's InfluxDB
// user and a file holding the password (mode 0600, in the stand's
// secrets), never the password itself; a 2.x token goes in its
// environment; an open InfluxDB gets neither.
func TestSinkBinaryInfluxAuth(t *testing.T) {
	e := &Env{tmp: t.TempDir()}
	sec, err := standsec.New(filepath.Join(e.tmp, "secrets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.sec = sec
	args, env, err := e.sinkInfluxAuth(&SiteEnv{InfluxUser: "teststand", InfluxPassword: "pw-secret"}, "usdf/efd")
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 4 || args[0] != "--influxdb-username" || args[1] != "teststand" || args[2] != "--influxdb-password" || !strings.HasPrefix(args[3], "@") || len(env) != 0 {
		t.Fatalf("args %q, env %q", args, env)
	}
	if strings.Contains(strings.Join(args, " "), "pw-secret") {
		t.Fatalf("the password is among the arguments: %q", args)
	}
	file := args[3][1:]
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "pw-secret" || fi.Mode().Perm() != 0o600 || filepath.Dir(file) != filepath.Join(e.tmp, "secrets") {
		t.Errorf("%s: %q, mode %v: want the password, 0600, in the stand's secrets", file, b, fi.Mode().Perm())
	}
	args, env, err = e.sinkInfluxAuth(&SiteEnv{InfluxOrg: "teststand", InfluxToken: "tok"}, "s")
	if err != nil || !slices.Equal(args, []string{"--org", "teststand"}) || !slices.Equal(env, []string{"INFLUXDB_TOKEN=tok"}) {
		t.Errorf("2.x: args %q, env %q, %v", args, env, err)
	}
	if args, env, err = e.sinkInfluxAuth(&SiteEnv{}, "s"); err != nil || len(args)+len(env) != 0 {
		t.Errorf("open: args %q, env %q, %v", args, env, err)
	}
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
