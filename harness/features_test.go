package harness

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/reports"
)

// TestFeatureSuite runs features/ against the default stand on the
// embedded backend: the suite `make test-stand` runs.
func TestFeatureSuite(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{
		Stand: "../scenarios/summit-usdf.yaml", Features: []string{"../features"},
		ReportDir: dir, Output: testOutput(t), Parallel: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot %s\n%s", res.BootTime, Summary(res))
	if !res.Passed {
		t.Fatalf("feature suite failed:\n%s", Summary(res))
	}
	if len(res.Results.Scenarios) < 12 {
		t.Fatalf("%d scenarios ran, want at least 12", len(res.Results.Scenarios))
	}
	var checked bool
	for _, sc := range res.Results.Scenarios {
		if sc.Name != "ATDome position reaches the USDF EFD exactly once" {
			continue
		}
		for _, tp := range sc.Topics {
			if tp.Topic == "lsst.sal.ATDome.position" && tp.Target == "influxdb@usdf/efd" && tp.Delivered > 0 {
				checked = true
				if tp.Sent < 45 || tp.Delivered != tp.Sent || tp.Lost != 0 {
					t.Errorf("ATDome position: sent %d delivered %d lost %d; want 50 sent at 10 Hz for 5 s, all delivered", tp.Sent, tp.Delivered, tp.Lost)
				}
				hops := map[string]bool{}
				for _, h := range tp.Hops {
					hops[h.Name] = h.Count == int64(tp.Delivered)
				}
				for _, want := range []string{"dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf", "end-to-end"} {
					if !hops[want] {
						t.Errorf("hop %q missing or incomplete in %v", want, hops)
					}
				}
			}
		}
	}
	if !checked {
		t.Error("no delivered ATDome position result in the report")
	}
	// Features tagged @stand:NAME ran on their own stands.
	// and the default stand's features were shared out among 3 copies.
	stands := map[string]int{}
	for _, sc := range res.Results.Scenarios {
		stands[filepath.Base(sc.Stand)]++
	}
	twoWay := stands["two-way.yaml"] + stands["two-way.yaml #1"] // one copy, or its features shared out
	if twoWay == 0 || stands["identity.yaml"] == 0 || stands["summit-usdf.yaml #1"] == 0 || stands["summit-usdf.yaml #3"] == 0 {
		t.Errorf("scenarios per stand %v: want three copies of the default stand, the two-way and the identity stands", stands)
	}
	for _, f := range []string{"index.html", "results.json", "junit-1.xml", "cucumber-3.json", "junit-two-way-1.xml", "junit-identity.xml", "junit-sites.xml"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("report file %s missing or empty: %v", f, err)
		}
	}
}

// TestAssertionsCanFail runs scenarios whose assertions must fail on a
// stand with a broken link (the sink stopped before the suite), and checks
// each failure says why.
func TestAssertionsCanFail(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	feature := filepath.Join(t.TempDir(), "broken.feature")
	if err := os.WriteFile(feature, []byte(`Feature: assertions that must fail
  Scenario: delivery without a sink
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 3 s

  Scenario: a producer that did read the topic
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    Then producer "summit-salkafka" has read no sample of ATDome "position"

  Scenario: a verdict that is not the one seen
    When ATDome publishes "position" at 20 Hz for 1 s on domain 12
    Then ATDome "position" is reported as "delivered exactly once" in database "efd" at "usdf" after 1 s

  Scenario: renamed with the wrong alias
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    Then every topic published in this scenario reaches "usdf" as "usdf.<topic>" exactly once within 2 s

  Scenario: duplicates that were not made
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" with none lost and 5 duplicates within 1 s

  Scenario: heartbeats of a pair that has none
    Then heartbeats from "usdf" to "base" arrive in topic "heartbeats" at "usdf" within 1 s

  Scenario: conflicts where there are none
    Then the registry at "usdf" reports schema id conflicts

  Scenario: a hop that is not on the path
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" exactly once within 5 s
    And latency p99 of ATDome "position" to "→influxdb@usdf" is below 1 s

  Scenario: the lag of a flow that does not exist
    Then the lag of the replication flow "moon->usdf" drains within 1 s

  Scenario: an outage of a producer that does not read the topic
    When ATDome publishes "position" at 20 Hz for 2 s on domain 0 in the background
    And 0.5 s pass
    And the producer "test-salkafka" is stopped
    And 0.5 s pass
    And the producer "test-salkafka" is restarted
    Then exactly the samples of ATDome "position" written while the producer "test-salkafka" was down are missing from database "efd" at "usdf" within 2 s

  Scenario: an open InfluxDB said to refuse clients without credentials
    Then the InfluxDB at "usdf" refuses a client without credentials
`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, RunConfig{
		Stand: "../scenarios/summit-usdf.yaml", Features: []string{feature}, ReportDir: dir,
		Output:  testOutput(t),
		Prepare: func(e *Env) error { return e.Stop("usdf-efd") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed {
		t.Fatal("suite passed with the sink stopped")
	}
	want := map[string][]string{
		"delivery without a sink":                                     {"not delivered", "lost 20"},
		"a producer that did read the topic":                          {"producer summit-salkafka has read", "samples of ATDome position"},
		"a verdict that is not the one seen":                          {`verdict "not delivered", want "delivered exactly once"`},
		"renamed with the wrong alias":                                {"kafka@usdf/usdf.lsst.sal.ATDome.position", "is not observed"},
		"duplicates that were not made":                               {"0 duplicates, want none lost and 5 duplicates"},
		"heartbeats of a pair that has none":                          {"no heartbeat usdf->base in heartbeats at usdf"},
		"conflicts where there are none":                              {"the registry at usdf reports no schema id conflict"},
		"the lag of a flow that does not exist":                       {`no replication flow named "moon->usdf"`},
		"a hop that is not on the path":                               {`no hop "→influxdb@usdf" on the way to kafka@usdf/summit.lsst.sal.ATDome.position`},
		"an outage of a producer that does not read the topic":        {"written while test-salkafka was down", "lost 40", "written while it ran"},
		"an open InfluxDB said to refuse clients without credentials": {"the InfluxDB at usdf answered a client without credentials (a query, a write): the stand is not secured"},
	}
	for _, sc := range res.Results.Scenarios {
		if sc.Status != "failed" || sc.FailedStep == "" {
			t.Errorf("%s: status %s, failed step %q", sc.Name, sc.Status, sc.FailedStep)
		}
		for _, w := range want[sc.Name] {
			if !strings.Contains(sc.Error, w) {
				t.Errorf("%s: error %q lacks %q", sc.Name, sc.Error, w)
			}
		}
		delete(want, sc.Name)
	}
	if len(want) > 0 {
		t.Errorf("scenarios that did not run: %v", want)
	}
}

// TestVerdictsPerIdentityAndTarget runs a scenario with two indices of
// MTHexapod (the stand's producer serves index 1 only), index 1 checked
// in Kafka, then in the EFD, then in the EFD again: the report keeps a
// row for each identity and target, each with its own figures.
func TestVerdictsPerIdentityAndTarget(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	feature := filepath.Join(t.TempDir(), "identities.feature")
	if err := os.WriteFile(feature, []byte(`Feature: verdicts per identity and target
  Scenario: two indices of a CSC, one checked at two targets
    When MTHexapod:1 publishes "actuators" at 20 Hz for 1 s on domain 0
    And MTHexapod:2 publishes "actuators" at 20 Hz for 0.5 s on domain 0
    Then every sample of MTHexapod:1 "actuators" is in topic "summit.lsst.sal.MTHexapod.actuators" at "usdf" exactly once within 20 s
    And every sample of MTHexapod:1 "actuators" is in database "efd" at "usdf" exactly once within 20 s
    And MTHexapod:2 "actuators" is reported as "not delivered" in database "efd" at "usdf" after 1 s
    And every field of MTHexapod:1 "actuators" in database "efd" at "usdf" is as written
`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, RunConfig{Stand: "../scenarios/summit-usdf.yaml", Features: []string{feature}, ReportDir: dir, Output: testOutput(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || len(res.Results.Scenarios) != 1 {
		t.Fatalf("scenario did not pass:\n%s", Summary(res))
	}
	type row struct{ identity, target string }
	got := map[row]reports.Topic{}
	for _, tp := range res.Results.Scenarios[0].Topics {
		got[row{tp.Identity, tp.Target}] = tp
	}
	want := []struct {
		row
		delivered bool
	}{
		{row{"MTHexapod:1", "kafka@usdf/summit.lsst.sal.MTHexapod.actuators"}, true},
		{row{"MTHexapod:1", "influxdb@usdf/efd"}, true},
		{row{"MTHexapod:2", "influxdb@usdf/efd"}, false},
	}
	if len(got) != len(want) || len(res.Results.Scenarios[0].Topics) != len(want) {
		t.Errorf("rows %v, want one per identity and target", labels(res.Results.Scenarios[0].Topics))
	}
	for _, w := range want {
		tp, ok := got[w.row]
		switch {
		case !ok:
			t.Errorf("no row for %s at %s:\n%s", w.identity, w.target, Summary(res))
		case tp.Sent == 0:
			t.Errorf("%s: nothing sent", tp.Label())
		case w.delivered && (tp.Delivered != tp.Sent || tp.Lost != 0):
			t.Errorf("%s: sent %d delivered %d lost %d, want every sample", tp.Label(), tp.Sent, tp.Delivered, tp.Lost)
		case !w.delivered && (tp.Delivered != 0 || tp.Lost != tp.Sent):
			t.Errorf("%s: sent %d delivered %d lost %d, want none delivered", tp.Label(), tp.Sent, tp.Delivered, tp.Lost)
		}
	}
	loaded, err := reports.Load(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(loaded.Scenarios[0].Topics); n != len(want) {
		t.Errorf("results.json: %d rows, want %d", n, len(want))
	}
}

func testOutput(t *testing.T) io.Writer {
	if testing.Verbose() {
		return os.Stdout
	}
	return io.Discard
}

// TestKafkaEraSuite runs the DDS-era delivery, replication and sink
// features unchanged on the Kafka-era stand: what they publish on a domain,
// the writer group standing for that domain writes to Kafka, and no
// sample passes a producer.
func TestKafkaEraSuite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{
		Stand:     "../scenarios/kafka-era.yaml",
		Features:  []string{"../features/delivery.feature", "../features/replication.feature", "../features/sink.feature"},
		ReportDir: t.TempDir(), Output: testOutput(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed {
		t.Fatalf("the DDS-era features failed on the Kafka-era stand:\n%s", Summary(res))
	}
	if len(res.Results.Scenarios) < 10 {
		t.Fatalf("%d scenarios ran, want the delivery, replication and sink features' 10", len(res.Results.Scenarios))
	}
	checked := false
	for _, sc := range res.Results.Scenarios {
		for _, tp := range sc.Topics {
			for _, h := range tp.Hops {
				if strings.Contains(h.Name, "producer") {
					t.Errorf("%s: %s passed hop %q: Kafka-era writers have no producer", sc.Name, tp.Topic, h.Name)
				}
				if h.Name == "→kafka@summit" && h.Count > 0 {
					checked = true
				}
			}
		}
	}
	if !checked {
		t.Error("no sample was seen at the summit's Kafka")
	}
}

// TestBrokerKillEmbedded: on kfake a killed broker's listener closes and
// its partitions move to the others; the producer follows them and writes
// every sample once, and nothing is lost on the way to the USDF. kfake
// re-adds a broker with its partitions' leader epochs back at 0, which a
// consumer takes for truncated data: it reads the partition again from
// the start, so the replica may hold copies (at least once, as MirrorMaker
// 2 would). kfake keeps one copy of the data for all brokers and enforces
// no ISR: what only real replicas show is
// conformance/faults/broker-faults.feature's, on the process backend.
func TestBrokerKillEmbedded(t *testing.T) {
	dir := t.TempDir()
	standFile := filepath.Join(dir, "three-brokers.yaml")
	if err := os.WriteFile(standFile, []byte(`version: 1
name: three-brokers-embedded
sites:
  summit:
    kafka: {brokers: 3, replication_factor: 3}
    registry: {}
  usdf:
    kafka: {brokers: 1}
    registry: {remote: summit}
    influxdb: {databases: [efd]}
producers:
  - {name: summit-salkafka, site: summit, domain: 0, cscs: [Test:1], wait_ack: all}
replication:
  - {source: summit, target: usdf, topics: ['lsst\.sal\..*', 'registry-schemas'], refresh: 300ms}
sinks:
  - {name: usdf-efd, site: usdf, topics: ['summit\.lsst\.sal\..*'], database: efd}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	feature := filepath.Join(dir, "kill.feature")
	if err := os.WriteFile(feature, []byte(`Feature: a broker killed on kfake
  Scenario: One broker of three killed and restarted mid-stream loses nothing
    Given the stand is up
    When Test:1 publishes "scalars" at 20 Hz for 6 s on domain 0 in the background
    And 2 s pass
    And broker 2 of "summit" is killed
    And 2 s pass
    And broker 2 of "summit" is restarted
    Then every sample of Test:1 "scalars" is in topic "lsst.sal.Test.scalars" at "summit" exactly once within 30 s
    And every sample of Test:1 "scalars" is in topic "summit.lsst.sal.Test.scalars" at "usdf" at least once within 30 s
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, RunConfig{Stand: standFile, Features: []string{feature}, ReportDir: filepath.Join(dir, "report"), Output: testOutput(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || len(res.Results.Scenarios) != 1 {
		t.Fatalf("a broker kill on kfake:\n%s", Summary(res))
	}
}
