package telegraf

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/registry"
)

// Schemas whose records decode as each other's, with the same id in two
// registries: a record read through the wrong registry is a plausible
// point of the other measurement.
const (
	scalarsSchema = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"x","type":"double"}]}`
	stopSchema = `{"type":"record","name":"logevent_emergencyStop","namespace":"lsst.sal.ATDome","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"level","type":"double"}]}`
	localTopic   = "lsst.sal.ATDome.logevent_emergencyStop"
	replicaTopic = "summit.lsst.sal.Test.scalars"
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
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, localTopic, replicaTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := func(cfg registry.Config) *registry.Server {
		cfg.Brokers, cfg.Logger = c.ListenAddrs(), slog.New(slog.NewTextHandler(io.Discard, nil))
		s, err := registry.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	local := start(registry.Config{})
	summit := start(registry.Config{Topic: "summit.registry-schemas"})
	remote := start(registry.Config{Topic: "summit.registry-schemas", ReadOnly: true})
	id := register(t, local, localTopic+"-value", stopSchema)
	if other := register(t, summit, "lsst.sal.Test.scalars-value", scalarsSchema); other != id {
		t.Fatalf("ids %d and %d do not collide", id, other)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 5
	for i := range n { // local seqNum 0..4, replicated 100..104, at other times
		produce(t, prod, localTopic, stopSchema, id, map[string]any{"private_efdStamp": 1.7e9 + float64(i), "private_seqNum": int32(i), "level": float64(i)})
		produce(t, prod, replicaTopic, scalarsSchema, id, map[string]any{"private_efdStamp": 1.7e9 + 10 + float64(i), "private_seqNum": int32(100 + i), "x": float64(i)})
	}

	const group = "telegraf-kafka-consumer-efd"
	cfg := Config{Brokers: c.ListenAddrs(), RegistryURL: local.URL(), InfluxURL: influx.URL(), Group: group, Inputs: []Input{
		{Topics: []string{`summit\.lsst\.sal\..*`}, Database: "efd", Registry: remote.URL()},
		{Topics: []string{`lsst\.sal\..*`}, Database: "efd"},
	}}
	if err := cfg.Check([]string{localTopic, replicaTopic, "registry-schemas", "summit.registry-schemas"}); err != nil {
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
	if want := [][]string{{localTopic}, {replicaTopic}}; !slices.EqualFunc(assigned, want, slices.Equal) {
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
		return count(localTopic, "")+count("lsst.sal.Test.scalars", "") >= 2*n
	})
	if got := count(localTopic, `WHERE "private_seqNum" < 100`); got != n {
		t.Errorf("%d local points in %s, want %d", got, localTopic, n)
	}
	if got := count("lsst.sal.Test.scalars", `WHERE "private_seqNum" >= 100`); got != n {
		t.Errorf("%d replicated points in lsst.sal.Test.scalars, want %d", got, n)
	}
	if got := count(localTopic, `WHERE "private_seqNum" >= 100`); got != 0 {
		t.Errorf("%d replicated records decoded through the local registry into %s", got, localTopic)
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

func register(t *testing.T, reg *registry.Server, subject, schema string) int {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.CreateSchema(context.Background(), subject, sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return ss.ID
}

func produce(t *testing.T, prod *kgo.Client, topic, schema string, id int, rec map[string]any) {
	t.Helper()
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	if v, err = codec.BinaryFromNative(v, rec); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
