package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// recordSite is an embedded Kafka cluster and the project's registry
// holding n samples of ATDome position, stamped a second apart from t0.
func recordSite(t *testing.T, t0 time.Time, n int) (brokers, registryURL string) {
	t.Helper()
	site := kafkatest.NewSite(t, kfake.SeedTopics(1, "lsst.sal.ATDome.position"))
	c, reg := site.Cluster, site.Registry
	ifaces, _ := sal.Load(sample.FS)
	pos := ifaces.Topic("ATDome", "position")
	id := kafkatest.Register(t, reg.URL(), pos.Subject(""), pos.Schema())
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	bus := dds.NewBus()
	defer bus.Close()
	r, _ := bus.Subscribe(dds.ReaderConfig{Topic: pos, Depth: n + 1})
	if _, err := mocksal.Run(context.Background(), bus, mocksal.WriterConfig{Topic: pos, Count: n}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s, _, _ := r.Read(context.Background())
		v := []byte{0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(v[1:], uint32(id))
		v, _ = pos.AppendAvro(v, s)
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: pos.KafkaTopic(""), Value: v, Timestamp: t0.Add(time.Duration(i) * time.Second)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(c.ListenAddrs(), ","), reg.URL()
}

// TestRecordFromKafka: stand record captures a time range of a cluster's
// topics through its registry into a recording mocksal replays.
func TestRecordFromKafka(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	brokers, reg := recordSite(t, t0, 10)
	out := filepath.Join(t.TempDir(), "rec.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"record", "--out", out, "--brokers", brokers, "--registry", reg, "--topics", `lsst\.sal\.ATDome\..*`,
		"--from", "2026-03-01T12:00:02Z", "--to", "2026-03-01T12:00:07Z"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "recorded 5 samples of 1 topics (1 schemas), 2026-03-01T12:00:02Z to 2026-03-01T12:00:06Z, into " + out; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	ifaces, _ := sal.Load(sample.FS)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws, err := mocksal.RecordingTopics(ifaces, f)
	if err != nil || len(ws) != 1 || ws[0].Samples != 5 {
		t.Fatalf("recording holds %v, %v", ws, err)
	}
}

// TestRecordRefuses: every way stand record can be asked wrong, or meet
// a source it cannot read, is one error line saying what, a non-zero
// exit (2 for bad input), and no file left behind, not even a partial
// one.
func TestRecordRefuses(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	brokers, reg := recordSite(t, t0, 3)
	dir := t.TempDir()
	held := filepath.Join(dir, "held.json")
	os.WriteFile(held, []byte(`{"format":"teststand-held/1","name":"x","sites":{"summit":{"brokers":["`+brokers+`"]}}}`), 0o644)
	kafka := []string{"--brokers", brokers, "--registry", reg, "--topics", `lsst\.sal\..*`, "--from", "2026-03-01T11:00:00Z", "--to", "2026-03-01T13:00:00Z"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad time", []string{"--topics", "x", "--from", "yesterday", "--to", "2026-03-01T13:00:00Z"}, 2, `--from "yesterday": want RFC 3339`},
		{"no range", []string{"--topics", "x", "--brokers", brokers}, 2, "give --duration, or --from and --to"},
		{"both sources", append([]string{"--measurements", "x"}, kafka...), 2, "--topics (Kafka) and --measurements (an EFD) exclude each other"},
		{"efd for a duration", []string{"--measurements", "x", "--db", "efd", "--efd", "http://127.0.0.1:1", "--duration", "1s"}, 2, "an EFD is read for a time range"},
		{"no topic matches", append(kafka[:len(kafka):len(kafka)], "--topics", `lsst\.sal\.Nope\..*`), 2, `no topic matches "lsst\\.sal\\.Nope\\..*" (topics there: `},
		{"not a regex", append(kafka[:len(kafka):len(kafka)], "--topics", `lsst(`), 2, "topic pattern"},
		{"registry unreachable", append(kafka[:len(kafka):len(kafka)], "--registry", "http://127.0.0.1:1"), 1,
			"topic lsst.sal.ATDome.position partition 0 offset 0: schema id 1 at registry http://127.0.0.1:1"},
		{"nothing in the range", append(kafka[:len(kafka):len(kafka)], "--to", "2026-03-01T11:30:00Z"), 1, "no record of the 1 topics"},
		{"no held stand", []string{"--stand", filepath.Join(dir, "none.json"), "--site", "summit", "--topics", "x", "--duration", "1s"}, 2, "none.json: no held stand"},
		{"no such site", []string{"--stand", held, "--site", "moon", "--topics", "x", "--duration", "1s"}, 2, `held.json: stand x has no site "moon" (sites: summit)`},
		{"efd unreachable", []string{"--measurements", `lsst\.sal\..*`, "--db", "efd", "--efd", "http://127.0.0.1:1", "--from", "2026-03-01T11:00:00Z", "--to", "2026-03-01T13:00:00Z"}, 1,
			"influxdb http://127.0.0.1:1 database efd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".jsonl")
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"record", "--out", out}, c.args...), &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
			if strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("want one error line, got %q", stderr.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s left behind", out)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v: a recording or a temporary file was left", names)
	}
}

// TestRecordFromAHeldStand: `stand up` (Hold) writes the state file;
// samples a mocksal process writes on the held stand's DDS domain are
// recorded from the summit's Kafka and from the summit's EFD by naming
// the held stand and the site, and both recordings hold the same samples,
// field by field.
func TestRecordFromAHeldStand(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "held.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out proc.SyncBuffer
	go func() {
		done <- harness.Hold(ctx, harness.HoldConfig{Stand: "../../scenarios/sites.yaml", StateFile: state, Output: &out,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Error("the state file outlived the stand")
		}
	}()
	if err := wait.ForFile(state).WithTimeout(90 * time.Second).WaitUntilReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	held, err := harness.ReadHeld(state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "state     "+state) {
		t.Errorf("endpoints do not name the state file:\n%s", out.String())
	}
	ifaces, _ := sal.Load(sample.FS)
	pos := ifaces.Topic("ATDome", "position")
	from := time.Now()
	const n = 20
	if err := mocksal.RunProcess(ctx, mocksal.ProcessConfig{Interfaces: ifaces, Domain: 0, DDSBasePort: held.DDSBasePort, WaitPeers: 1,
		Writers: []mocksal.WriterConfig{{Topic: pos, RateHz: 100, Count: n, Origin: 555}}}); err != nil {
		t.Fatal(err)
	}
	summit := held.Sites["summit"]
	kafkatest.Consume(t, summit.Brokers, pos.KafkaTopic(""), n)
	c := &influxd.Client{URL: summit.InfluxDB}
	efd := wait.ForCondition("the samples in the summit's EFD", func(ctx context.Context) error {
		series, err := c.Query(ctx, summit.Databases["efd"], `SELECT COUNT("private_seqNum") FROM "lsst.sal.ATDome.position" WHERE "private_origin" = 555`)
		if err != nil || len(series) == 0 || fmt.Sprint(series[0].Values[0][1]) != fmt.Sprint(n) {
			return fmt.Errorf("not yet: %v %v", series, err)
		}
		return nil
	}).WithTimeout(30 * time.Second)
	if err := efd.WaitUntilReady(ctx); err != nil {
		t.Fatal(err)
	}
	to := time.Now().Add(time.Second)
	rng := []string{"--from", from.Add(-time.Second).UTC().Format(time.RFC3339Nano), "--to", to.UTC().Format(time.RFC3339Nano)}
	recordings := map[string][]string{
		"kafka": {"--topics", `lsst\.sal\.ATDome\.position`},
		"efd":   {"--measurements", `lsst\.sal\.ATDome\.position`, "--db", "efd"},
	}
	got := map[string][]*sal.Sample{}
	for name, args := range recordings {
		file := filepath.Join(dir, name+".jsonl")
		var stdout, stderr bytes.Buffer
		if code := run(append(append([]string{"record", "--out", file, "--stand", state, "--site", "summit"}, args...), rng...), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr.String())
		}
		data, _ := os.ReadFile(file)
		if err := mocksal.ReadRecording(ifaces, bytes.NewReader(data), func(rs mocksal.RecordedSample) error {
			if rs.Sample.Get("private_origin") == int32(555) {
				got[name] = append(got[name], rs.Sample)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(got["kafka"]) != n || len(got["efd"]) != n {
		t.Fatalf("recorded %d samples from Kafka and %d from the EFD, want %d", len(got["kafka"]), len(got["efd"]), n)
	}
	for i := range n {
		if !reflect.DeepEqual(got["kafka"][i].Values, got["efd"][i].Values) {
			t.Errorf("sample %d: the EFD's differs from Kafka's", i)
		}
	}
}

// TestRecordWithSCRAM: against a cluster that takes only SCRAM-SHA-512
// users, as Sasquatch's, stand record authenticates with the producer's
// flags (the password from a file); a wrong password fails without
// showing it and leaves no recording.
func TestRecordWithSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "recorder", "s3cret-pw"), kfake.SeedTopics(1, "lsst.sal.ATDome.position"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	auth := kgo.SASL(scram.Auth{User: "recorder", Pass: "s3cret-pw"}.AsSha512Mechanism())
	reg, err := registry.Start(context.Background(), registry.Config{Brokers: c.ListenAddrs(), KafkaOpts: []kgo.Opt{auth}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ifaces, _ := sal.Load(sample.FS)
	pos := ifaces.Topic("ATDome", "position")
	id := kafkatest.Register(t, reg.URL(), pos.Subject(""), pos.Schema())
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), auth)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	v, _ = pos.AppendAvro(v, sal.NewSample(pos))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: pos.KafkaTopic(""), Value: v, Timestamp: t0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("s3cret-pw\n"), 0o600)
	base := []string{"record", "--brokers", strings.Join(c.ListenAddrs(), ","), "--registry", reg.URL(), "--topics", `lsst\.sal\..*`,
		"--from", "2026-03-01T11:00:00Z", "--to", "2026-03-01T13:00:00Z", "--username", "recorder"}
	cases := []struct {
		name, password string
		code           int
	}{
		{"right password", "@" + pwFile, 0},
		{"wrong password", "wrong-pw", 1}, // "listing topics as recorder (are the credentials right?)"
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(cs.name, " ", "-")+".jsonl")
			var stdout, stderr bytes.Buffer
			code := run(append(base, "--password", cs.password, "--out", out), &stdout, &stderr)
			if code != cs.code {
				t.Fatalf("exit %d, want %d: %s", code, cs.code, stderr.String())
			}
			if cs.code != 0 && !strings.Contains(stderr.String(), "listing topics as recorder (are the credentials right?)") {
				t.Errorf("stderr %q does not say the credentials may be wrong", stderr.String())
			}
			if strings.Contains(stderr.String(), "wrong-pw") || strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("the error shows the password: %s", stderr.String())
			}
			_, err := os.Stat(out)
			if (err == nil) != (cs.code == 0) {
				t.Errorf("recording present: %v, want %v", err == nil, cs.code == 0)
			}
		})
	}
}
