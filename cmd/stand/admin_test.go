package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/harness/kafkaproc"
	"github.com/lsst-ts/teststand/internal/kfault"
	"github.com/lsst-ts/teststand/registry"
)

// TestAdminTools runs the kafkaefd-style tools through the command line,
// step by step, against the embedded Kafka and against real Apache Kafka:
// each step's exit code and output are checked, and later steps see what
// earlier ones did (a created topic is listed, a set config is shown).
func TestAdminTools(t *testing.T) {
	backends := []struct {
		name  string
		start func(t *testing.T) []string
	}{
		{"embedded", func(t *testing.T) []string {
			c, err := kfake.NewCluster(kfake.NumBrokers(1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			return c.ListenAddrs()
		}},
		{"process", func(t *testing.T) []string {
			lib, err := kafkaproc.FindLib("../..")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := kafkaproc.Start(ctx, kafkaproc.Config{Lib: lib})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Stop() })
			return c.Seeds()
		}},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			brokers := strings.Join(be.start(t), ",")
			reg, err := registry.Start(context.Background(), registry.Config{Brokers: strings.Split(brokers, ",")})
			if err != nil {
				t.Fatal(err)
			}
			defer reg.Close()
			schemas := t.TempDir()
			steps := []struct {
				args []string
				code int
				want []string // lines or parts the output must have
				not  []string
			}{
				{[]string{"admin", "--brokers", brokers, "topics", "create", "lsst.dm.a", "--partitions", "2", "--replication-factor", "1", "--config", "retention.ms=3600000"}, 0, []string{"created lsst.dm.a (2 partitions, replication factor 1)"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "create", "lsst.dm.a"}, 1, nil, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "list", "--detail"}, 0, []string{"lsst.dm.a\tpartitions 2\treplication factor 1"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.a"}, 0, []string{"retention.ms = 3600000"}, []string{"cleanup.policy"}},
				{[]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.a", "--set", "cleanup.policy", "compact"}, 0, []string{"cleanup.policy = compact", "retention.ms = 3600000"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.a", "--detail"}, 0, []string{"cleanup.policy = compact\t(dynamic_topic)", "retention.ms = 3600000\t(dynamic_topic)"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "partition", "lsst.dm.a", "4"}, 0, []string{"lsst.dm.a now has 4 partitions (was 2)"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "partition", "lsst.dm.a", "3"}, 1, nil, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "partition", "lsst.dm.a", "zero"}, 2, nil, nil},
				{[]string{"admin", "--brokers", brokers, "brokers"}, 0, []string{"cluster ", "\tcontroller"}, nil},
				{[]string{"hello", "--brokers", brokers, "world", "produce", "--count", "3"}, 0, []string{`produced "Hello world 2" to helloworld[0]@2`}, nil},
				{[]string{"hello", "--brokers", brokers, "world", "consume", "--count", "3", "--timeout", "20s"}, 0, []string{"helloworld[0]@0: Hello world 0", "helloworld[0]@2: Hello world 2"}, nil},
				{[]string{"hello", "--brokers", brokers, "--registry", reg.URL(), "avro", "produce", "--count", "2"}, 0, []string{`produced "Hello world 1" to helloavro[0]@1`}, nil},
				{[]string{"hello", "--brokers", brokers, "--registry", reg.URL(), "avro", "consume", "--count", "2", "--timeout", "20s"}, 0, []string{`helloavro[0]@1: {"count":1,"message":"Hello world 1","sent":`}, nil},
				{[]string{"hello", "--brokers", brokers, "world", "consume", "--topic", "helloworld", "--count", "4", "--timeout", "2s"}, 1, nil, nil},
				{[]string{"salschema", "convert", "--ts-xml=", "--csc", "ATDome", "--write", schemas, "--upload", "--registry", reg.URL()}, 0, []string{"lsst.sal.ATDome.position\t" + filepath.Join(schemas, "lsst.sal.ATDome.position.avsc") + "\tid "}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "delete", "lsst.dm.a"}, 0, []string{"deleted lsst.dm.a"}, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.gone"}, 1, nil, nil},
				{[]string{"admin", "--brokers", brokers, "topics", "frobnicate"}, 2, nil, nil},
				{[]string{"admin", "topics", "list"}, 2, nil, nil},
			}
			t.Setenv("KAFKA_BROKERS", "")
			for _, s := range steps {
				var out, errb bytes.Buffer
				code := run(s.args, &out, &errb)
				if code != s.code {
					t.Fatalf("stand %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(s.args, " "), code, s.code, out.String(), errb.String())
				}
				for _, w := range s.want {
					if !strings.Contains(out.String(), w) {
						t.Fatalf("stand %s: output lacks %q:\n%s", strings.Join(s.args, " "), w, out.String())
					}
				}
				for _, n := range s.not {
					if strings.Contains(out.String(), n) {
						t.Fatalf("stand %s: output has %q:\n%s", strings.Join(s.args, " "), n, out.String())
					}
				}
				if code != 0 && errb.Len() == 0 {
					t.Fatalf("stand %s: exit %d without a message", strings.Join(s.args, " "), code)
				}
			}
			avsc, err := os.ReadFile(filepath.Join(schemas, "lsst.sal.ATDome.position.avsc"))
			if err != nil || !strings.Contains(string(avsc), `"namespace": "lsst.sal.ATDome"`) {
				t.Fatalf("written schema: %v\n%s", err, avsc)
			}
		})
	}
}

// TestAdminSaysAcceptedNotVisible: a config set that the brokers do not
// show within --wait exits 3 (not 1: the cluster took it) and says so,
// naming the broker and what it still shows.
func TestAdminSaysAcceptedNotVisible(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lsst.dm.a"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "lsst.dm.a"
	req.Resources = append(req.Resources, rr)
	old, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	// A broker that never learns of the change.
	kfault.LagReads(c, kmsg.DescribeConfigs, 1<<30, func(_ int32, _ kmsg.Request, resp kmsg.Response) bool {
		r := resp.(*kmsg.DescribeConfigsResponse)
		v := r.Version
		*r = *old
		r.Version = v
		return true
	})
	brokers := strings.Join(c.ListenAddrs(), ",")
	var out, errb bytes.Buffer
	code := run([]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.a", "--set", "cleanup.policy", "compact", "--wait", "1s"}, &out, &errb)
	const want = "accepted by the cluster, not yet visible after 1s: broker 0 shows lsst.dm.a's cleanup.policy = delete, not compact"
	if code != 3 || !strings.Contains(errb.String(), want) {
		t.Fatalf("exit %d, want 3 saying %q\nstdout %s\nstderr %s", code, want, out.String(), errb.String())
	}
	// --wait 0: the set returns once the controller took it.
	out.Reset()
	errb.Reset()
	if code := run([]string{"admin", "--brokers", brokers, "topics", "config", "lsst.dm.a", "--set", "retention.ms=1000", "--wait", "0"}, &out, &errb); code != 0 {
		t.Fatalf("--wait 0: exit %d\nstderr %s", code, errb.String())
	}
}
