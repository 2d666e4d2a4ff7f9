package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func freeBase(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestRunWritesLedgerRecordsAndReplays(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.jsonl")
	var out, errb bytes.Buffer
	code := run([]string{"--csc", "MTHexapod:2", "--topic", "application,actuators", "--rate", "100", "--count", "3",
		"--ledger", "-", "--record", rec, "--dds-base-port", freeBase(t), "--origin", "77"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d ledger lines, want 6:\n%s", len(lines), out.String())
	}
	var w struct {
		CSC      string
		Identity string
		Origin   int32
	}
	if err := json.Unmarshal([]byte(lines[0]), &w); err != nil || w.CSC != "MTHexapod" || w.Identity != "MTHexapod:2" || w.Origin != 77 {
		t.Fatalf("ledger line %s: %+v %v", lines[0], w, err)
	}
	// A header, a schema line per topic, a line per sample.
	if b, err := os.ReadFile(rec); err != nil || strings.Count(string(b), "\n") != 9 || !strings.HasPrefix(string(b), `{"format":"teststand-recording/2"`) {
		t.Fatalf("recording: %d lines, %v:\n%.300s", strings.Count(string(b), "\n"), err, b)
	}
	out.Reset()
	if code := run([]string{"--replay", rec, "--speed", "0", "--ledger", "-", "--dds-base-port", freeBase(t)}, &out, &errb); code != 0 {
		t.Fatalf("replay exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 6 {
		t.Fatalf("replay ledger %d lines, want 6", n)
	}
}

func TestDryRunProfile(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--profile", "../../scenarios/profiles/nominal-summit.yaml", "--dry-run", "--duration", "1s"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "lsst.sal.MTM1M3.forceActuatorData") || !strings.Contains(out.String(), "50.000 Hz") {
		t.Fatalf("dry run:\n%s", out.String())
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--csc", "Nope", "--count", "1"}, `unknown CSC "Nope"`},
		{[]string{"--csc", "MTHexapod", "--count", "1"}, "MTHexapod is indexed"},
		{[]string{"--csc", "ATDome", "--topic", "nope", "--count", "1"}, `ATDome has no topic "nope"`},
		{[]string{"--csc", "ATDome"}, "give --duration or --count"},
		{[]string{"--count", "1"}, "give --csc, --profile, --salmock or --replay"},
		{[]string{"--profile", "missing.yaml", "--count", "1"}, "no such file"},
		{[]string{"--kafka", "127.0.0.1:1", "--csc", "ATDome", "--count", "1"}, "LSST_TOPIC_SUBNAME is not set"},
		{[]string{"--kafka", "127.0.0.1:1", "--subname", "test", "--replay", "x.jsonl"}, "need a DDS domain"},
	}
	t.Setenv(kafkasal.EnvSubname, "")
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
}

// TestReplayRefusesBadRecordings: a recording that cannot be read exits
// 2 before anything is written, naming the file and the line.
func TestReplayRefusesBadRecordings(t *testing.T) {
	dir := t.TempDir()
	ifaces, _ := sal.Load(sample.FS)
	pos := ifaces.Topic("ATDome", "position")
	changed := strings.Replace(pos.Schema(), `{"name": "azimuthPosition", "type": "double"`, `{"name": "azimuthPosition", "type": "float"`, 1)
	if changed == pos.Schema() {
		t.Fatal("the schema was not changed")
	}
	schemaLine, _ := json.Marshal(map[string]any{"schema": 1, "csc": "ATDome", "topic": "position", "subject": "lsst.sal.ATDome.position-value", "avsc": changed})
	mismatch := `{"format":"teststand-recording/2","started":"2026-01-01T00:00:00Z"}` + "\n" + string(schemaLine) + "\n" +
		`{"t":0,"schema":1,"domain":0,"prefix":"","avro":"AAAA"}` + "\n"
	cases := []struct{ name, content, want string }{
		{"mismatch.jsonl", mismatch, `mismatch.jsonl: replay: line 3: ATDome.position: schema 1 (line 2): the recording's fields differ from the loaded interfaces': field "azimuthPosition" is float in the recording, double in the loaded interfaces`},
		{"unknown.jsonl", `{"format":"teststand-recording/9"}` + "\n", `unknown.jsonl: replay: line 1: unknown recording format "teststand-recording/9"`},
		{"truncated.jsonl", `{"format":"teststand-recording/2","started":"2026-01-01T00:00:00Z"}` + "\n" + `{"schema":1,"csc":"ATDome","topic":"posi`, "truncated.jsonl: replay: line 2: corrupt line"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run([]string{"--replay", path, "--speed", "0", "--ledger", "-", "--dds-base-port", freeBase(t)}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.name, code, errb.String(), c.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote %q", c.name, out.String())
		}
	}
}

// TestKafkaEra writes as a Kafka-era SAL component: straight to the
// site's Kafka under the subname, every sample in the ledger.
func TestKafkaEra(t *testing.T) {
	site := kafkatest.NewSite(t)
	c, reg := site.Cluster, site.Registry
	var out, errb bytes.Buffer
	code := run([]string{"--kafka", strings.Join(c.ListenAddrs(), ","), "--registry", reg.URL(), "--subname", "test",
		"--csc", "ATDome", "--topic", "position", "--rate", "100", "--count", "4", "--ledger", "-"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Fatalf("%d ledger lines, want 4", n)
	}
	recs := kafkatest.Consume(t, c.ListenAddrs(), "lsst.test.ATDome.position", 4)
	if len(recs) != 4 {
		t.Fatalf("%d records at lsst.test.ATDome.position, want 4", len(recs))
	}
	// As salobj's SalInfo.start: every topic of the component made and its
	// schema registered, not only the one written.
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	details, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := rc.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ifaces.Component("ATDome").Topics {
		name := tp.KafkaTopic("test")
		if _, ok := details[name]; !ok || !slices.Contains(subjects, name+"-value") {
			t.Errorf("%s: created %v, %s-value registered %v; want both at start", name, ok, name, slices.Contains(subjects, name+"-value"))
		}
	}
}
