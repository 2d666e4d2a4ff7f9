package kafkasal_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string // an error's words, or "" for none
		cfg  kafkasal.Config
	}{
		{"salobj's defaults", map[string]string{kafkasal.EnvSubname: "sal"}, "",
			kafkasal.Config{Brokers: []string{"broker:29092"}, RegistryURL: "http://schema-registry:8081", Subname: "sal", ReplicationFactor: 1, Acks: "1"}},
		{"as set", map[string]string{kafkasal.EnvSubname: "test", kafkasal.EnvBroker: "a:1,b:2", kafkasal.EnvRegistry: "http://r:8081", kafkasal.EnvReplication: "3", kafkasal.EnvAcks: "all"}, "",
			kafkasal.Config{Brokers: []string{"a:1", "b:2"}, RegistryURL: "http://r:8081", Subname: "test", ReplicationFactor: 3, Acks: "all"}},
		{"no subname", map[string]string{}, "LSST_TOPIC_SUBNAME is not set", kafkasal.Config{}},
		{"a replication factor that is no number", map[string]string{kafkasal.EnvSubname: "sal", kafkasal.EnvReplication: "two"}, `LSST_KAFKA_REPLICATION_FACTOR="two"`, kafkasal.Config{}},
		{"no replica", map[string]string{kafkasal.EnvSubname: "sal", kafkasal.EnvReplication: "0"}, `LSST_KAFKA_REPLICATION_FACTOR="0"`, kafkasal.Config{}},
		{"acks salobj does not know", map[string]string{kafkasal.EnvSubname: "sal", kafkasal.EnvAcks: "2"}, `LSST_KAFKA_PRODUCER_WAIT_ACKS="2"`, kafkasal.Config{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := kafkasal.FromEnv(func(k string) string { return c.env[k] })
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err %v, want one saying %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cfg.Brokers, ",") != strings.Join(c.cfg.Brokers, ",") || cfg.RegistryURL != c.cfg.RegistryURL ||
				cfg.Subname != c.cfg.Subname || cfg.ReplicationFactor != c.cfg.ReplicationFactor || cfg.Acks != c.cfg.Acks {
				t.Fatalf("%+v, want %+v", cfg, c.cfg)
			}
		})
	}
}

// TestWriter writes as Kafka-era salobj does and reads back what a
// consumer of the site sees: the topic names under the subname, one
// partition each, events compacted and telemetry not, every schema
// registered under <topic>-value before the first write and named in each
// record's frame, salobj's keys and stamps, every sample once in order,
// and nothing under the production subname.
func TestWriter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	site := kafkatest.NewSite(t)
	c, reg := site.Cluster, site.Registry
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	position := ifaces.Topic("ATDome", "position")
	heartbeat := ifaces.Topic("Test", "logevent_heartbeat")
	if position == nil || heartbeat == nil || !heartbeat.Indexed {
		t.Fatal("the sample interfaces lack ATDome position or Test's heartbeat")
	}
	w, err := kafkasal.Open(ctx, kafkasal.Config{Brokers: c.ListenAddrs(), RegistryURL: reg.URL(), Subname: "test"}, nil, position, heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	type wrote struct {
		topic *sal.Topic
		index int32
		n     int
	}
	var writes []mocksal.Write
	for _, x := range []wrote{{position, 0, 5}, {heartbeat, 3, 3}} {
		if _, err := mocksal.Run(ctx, nil, mocksal.WriterConfig{Topic: x.topic, Index: x.index, RateHz: 200, Count: x.n, Publish: w.Publish},
			func(wr mocksal.Write) { writes = append(writes, wr) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Produced.Load() != 8 || w.Failed.Load() != 0 {
		t.Fatalf("produced %d, failed %d; want 8 and 0", w.Produced.Load(), w.Failed.Load())
	}

	brokers := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		topic   *sal.Topic
		name    string
		n       int
		compact bool
		key     string
	}{
		{position, "lsst.test.ATDome.position", 5, false, ""},
		{heartbeat, "lsst.test.Test.logevent_heartbeat", 3, true, `{ "name": "Test", "index": 3, "topic": "logevent_heartbeat" }`},
	} {
		d, ok := details[x.name]
		if !ok || len(d.Partitions) != 1 {
			t.Fatalf("%s: %v partitions (listed %v); want the topic with one", x.name, len(d.Partitions), ok)
		}
		policy := kafkatest.TopicConfig(t, brokers, x.name, "cleanup.policy")
		if (policy == "compact") != x.compact {
			t.Errorf("%s: cleanup.policy %q; want compact only for an event", x.name, policy)
		}
		ss, err := rc.SchemaByVersion(ctx, x.name+"-value", -1)
		if err != nil {
			t.Fatalf("%s-value not registered: %v", x.name, err)
		}
		var named struct{ Name, Namespace string }
		if err := json.Unmarshal([]byte(ss.Schema.Schema), &named); err != nil || named.Namespace != "lsst.sal."+x.topic.CSC || named.Name != x.topic.Name {
			t.Errorf("%s: schema %s.%s (%v); want lsst.sal.%s.%s, whatever the subname", x.name, named.Namespace, named.Name, err, x.topic.CSC, x.topic.Name)
		}
		recs := kafkatest.Consume(t, brokers, x.name, x.n)
		for i, r := range recs {
			if string(r.Key) != x.key {
				t.Errorf("%s #%d: key %q, want %q", x.name, i, r.Key, x.key)
			}
			if len(r.Value) < 5 || r.Value[0] != 0 || int(binary.BigEndian.Uint32(r.Value[1:5])) != ss.ID {
				t.Fatalf("%s #%d: frame % x…; want magic 0 and schema id %d", x.name, i, r.Value[:min(5, len(r.Value))], ss.ID)
			}
			s, err := x.topic.DecodeAvro(r.Value[5:])
			if err != nil {
				t.Fatal(err)
			}
			v := func(f string) any { return s.Values[x.topic.FieldIndex(f)] }
			snd := v("private_sndStamp").(float64)
			if v("private_seqNum").(int32) != int32(i+1) || v("private_kafkaStamp").(float64) != snd ||
				v("private_efdStamp").(float64) != sal.UTCFromTAI(snd) || v("private_rcvStamp").(float64) != 0 {
				t.Errorf("%s #%d: seqNum %v, snd %v, kafka %v, efd %v, rcv %v; want seqNum %d, kafka = snd, efd = snd in UTC, rcv 0",
					x.name, i, v("private_seqNum"), snd, v("private_kafkaStamp"), v("private_efdStamp"), v("private_rcvStamp"), i+1)
			}
		}
	}
	if _, ok := details["lsst.sal.ATDome.position"]; ok {
		t.Error("a writer with subname test made lsst.sal.ATDome.position: the production consumers would read it")
	}
	if len(writes) != 8 {
		t.Errorf("%d writes in the ledger, want 8", len(writes))
	}
}

// TestOpenRefusesWithoutSubname: a component with no subname writes
// nowhere, as salobj refuses to start.
func TestOpenRefusesWithoutSubname(t *testing.T) {
	if _, err := kafkasal.Open(context.Background(), kafkasal.Config{Brokers: []string{"127.0.0.1:1"}}, nil); err == nil || !strings.Contains(err.Error(), kafkasal.EnvSubname) {
		t.Fatalf("err %v, want one naming %s", err, kafkasal.EnvSubname)
	}
}

// TestOpenStartsEveryTopic: as salobj's SalInfo.start, a component's
// writer creates every topic of the component (telemetry, events,
// commands, ackcmd) and registers every schema under <topic>-value when it
// starts, though it writes none of them yet.
func TestOpenStartsEveryTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	site := kafkatest.NewSite(t)
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	comps := []*sal.Component{ifaces.Component("ATDome"), ifaces.Component("Test")}
	brokers := site.Cluster.ListenAddrs()
	w, err := kafkasal.Open(ctx, kafkasal.Config{Brokers: brokers, RegistryURL: site.Registry.URL(), Subname: "test"}, comps)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := sr.NewClient(sr.URLs(site.Registry.URL()))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := rc.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[sal.Kind]int{}
	for _, c := range comps {
		for _, tp := range c.Topics {
			kinds[tp.Kind]++
			name := tp.KafkaTopic("test")
			if d, ok := details[name]; !ok || len(d.Partitions) != 1 {
				t.Errorf("%s: not created with one partition at start", name)
			}
			if !slices.Contains(subjects, name+"-value") {
				t.Errorf("%s-value: not registered at start", name)
			}
		}
	}
	for _, k := range []sal.Kind{sal.Telemetry, sal.Event, sal.Command, sal.Ackcmd} {
		if kinds[k] == 0 {
			t.Errorf("the components have no %s topic: the test checks nothing of them", k)
		}
	}
	if p := kafkatest.TopicConfig(t, brokers, "lsst.test.ATDome.logevent_heartbeat", "cleanup.policy"); p != "compact" {
		t.Errorf("an event topic made at start: cleanup.policy %q, want compact", p)
	}
	if p := kafkatest.TopicConfig(t, brokers, "lsst.test.ATDome.command_start", "cleanup.policy"); p == "compact" {
		t.Error("a command topic made at start is compacted; only events are")
	}
}
