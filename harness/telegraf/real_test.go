package telegraf

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/proc"
)

// TestTwoRegistriesOneGroup runs real Telegraf as Text configures it for
// Sasquatch's remote context: an input for the replicated topics on the
// remote registry (read-only, on summit.registry-schemas) and one for
// the local topics on the local registry, whose schemas have the same
// id, both in one consumer group, on an embedded cluster into a real
// influxd. The group has both inputs as members, each assigned its own
// topic only, and each topic's records land in their own measurement:
// none decoded through the other registry.
func TestTwoRegistriesOneGroup(t *testing.T) {
	bin, err := Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ib, err := influxd.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	influx, err := influxd.Start(ctx, ib)
	if err != nil {
		t.Fatal(err)
	}
	defer influx.Stop()
	ic := influx.Client()
	if err := ic.CreateDatabase(ctx, "efd"); err != nil {
		t.Fatal(err)
	}
	const n = 5
	site := kafkatest.NewRemoteSite(t, n)
	c, local, remote := site.Cluster, site.Local, site.Remote
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	const group = "telegraf-kafka-consumer-efd"
	cfg := Config{Brokers: c.ListenAddrs(), RegistryURL: local.URL(), InfluxURL: influx.URL(), Group: group, Inputs: []Input{
		{Topics: []string{`summit\.lsst\.sal\..*`}, Database: "efd", Registry: remote.URL()},
		{Topics: []string{`lsst\.sal\..*`}, Database: "efd"},
	}}
	if err := cfg.Check([]string{kafkatest.LocalTopic, kafkatest.ReplicaTopic, "registry-schemas", "summit.registry-schemas"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(path, []byte(cfg.Text()), 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := proc.Start("telegraf", exec.Command(bin, "--config", path))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Stop(10 * time.Second)

	// One member per input, each assigned its own topic and nothing else.
	adm := kadm.NewClient(prod)
	var assigned [][]string
	waitFor(t, tg, "two members of "+group+" with a topic each", func() bool {
		groups, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		assigned = nil
		for _, m := range groups[group].Members {
			ca, ok := m.Assigned.AsConsumer()
			if !ok {
				return false
			}
			var topics []string
			for _, tp := range ca.Topics {
				topics = append(topics, tp.Topic)
			}
			slices.Sort(topics)
			assigned = append(assigned, topics)
		}
		slices.SortFunc(assigned, func(a, b []string) int { return strings.Compare(strings.Join(a, ","), strings.Join(b, ",")) })
		return len(assigned) == 2 && len(assigned[0]) > 0 && len(assigned[1]) > 0
	})
	if want := [][]string{{kafkatest.LocalTopic}, {kafkatest.ReplicaTopic}}; !slices.EqualFunc(assigned, want, slices.Equal) {
		t.Errorf("assigned %v, want %v", assigned, want)
	}

	count := func(measurement, where string) int {
		series, err := ic.Query(ctx, "efd", fmt.Sprintf(`SELECT "private_seqNum" FROM %q %s`, measurement, where))
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, s := range series {
			k += len(s.Values)
		}
		return k
	}
	waitFor(t, tg, "both topics' points", func() bool {
		return count(kafkatest.LocalTopic, "")+count("lsst.sal.Test.scalars", "") >= 2*n
	})
	if got := count(kafkatest.LocalTopic, `WHERE "private_seqNum" < 100`); got != n {
		t.Errorf("%d local points in %s, want %d", got, kafkatest.LocalTopic, n)
	}
	if got := count("lsst.sal.Test.scalars", `WHERE "private_seqNum" >= 100`); got != n {
		t.Errorf("%d replicated points in lsst.sal.Test.scalars, want %d", got, n)
	}
	if got := count(kafkatest.LocalTopic, `WHERE "private_seqNum" >= 100`); got != 0 {
		t.Errorf("%d replicated records decoded through the local registry into %s", got, kafkatest.LocalTopic)
	}
	if got := count("lsst.sal.Test.scalars", `WHERE "private_seqNum" < 100`); got != 0 {
		t.Errorf("%d local records decoded through the remote registry into lsst.sal.Test.scalars", got)
	}
}

// waitFor polls ok until it holds, for up to 90 s; Telegraf exiting ends
// it at once with its output.
func waitFor(t *testing.T, tg *proc.Process, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if err := tg.Alive(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, tg.Tail(4000))
		}
	}
}

// TestInfluxCredentials runs real Telegraf as Text configures it into an
// InfluxDB with authentication on: without credentials its writes are
// refused (401) and nothing is written; with the username and password
// in its output every point is.
func TestInfluxCredentials(t *testing.T) {
	bin, err := Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ib, err := influxd.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	influx, err := influxd.StartAuth(ctx, ib, "telegraf", "Tg-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer influx.Stop()
	ic := influx.Client()
	if err := ic.CreateDatabase(ctx, "efd"); err != nil {
		t.Fatal(err)
	}
	const n = 5
	site := kafkatest.NewRemoteSite(t, n)
	count := func() int {
		series, err := ic.Query(ctx, "efd", `SELECT "private_seqNum" FROM /.*/`)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, s := range series {
			k += len(s.Values)
		}
		return k
	}
	for i, user := range [][2]string{{}, {"telegraf", "Tg-s3cret"}} {
		cfg := Config{Brokers: site.Cluster.ListenAddrs(), RegistryURL: site.Local.URL(), InfluxURL: influx.URL(), Group: fmt.Sprint("g", i),
			InfluxUser: user[0], InfluxPassword: user[1], Inputs: []Input{{Topics: []string{`lsst\.sal\..*`}, Database: "efd"}}}
		path := filepath.Join(t.TempDir(), "telegraf.conf")
		if err := os.WriteFile(path, []byte(cfg.Text()), 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := proc.Start("telegraf", exec.Command(bin, "--config", path))
		if err != nil {
			t.Fatal(err)
		}
		if user[0] == "" {
			waitFor(t, tg, "a refused write", func() bool { return strings.Contains(tg.Tail(1<<20), "401") })
			if got := count(); got != 0 {
				t.Errorf("%d points written without credentials", got)
			}
		} else {
			waitFor(t, tg, fmt.Sprint(n, " points"), func() bool { return count() >= n })
		}
		_ = tg.Stop(10 * time.Second)
	}
}
