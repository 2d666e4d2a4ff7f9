package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func interfaces(t testing.TB) *sal.Interfaces {
	t.Helper()
	ifaces, err := sal.Load(sample.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ifaces
}

// site is one embedded Kafka cluster with the project's registry, and a
// client that writes SAL records as the SAL Kafka producer frames them.
type site struct {
	cluster *kfake.Cluster
	reg     *registry.Server
	prod    *kgo.Client
	ids     map[string]int
}

func newSite(t testing.TB) *site {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	reg, err := registry.Start(context.Background(), registry.Config{Brokers: c.ListenAddrs(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &site{cluster: c, reg: reg, prod: prod, ids: map[string]int{}}
}

func (s *site) brokers() []string { return s.cluster.ListenAddrs() }

// produce writes samples to kafkaTopic, each stamped at its time, framed
// with the id of its topic's schema (registered under the topic's
// subject the first time).
func (s *site) produce(t testing.TB, kafkaTopic string, at []time.Time, samples []*sal.Sample) {
	t.Helper()
	for i, smp := range samples {
		tp := smp.Topic
		id, ok := s.ids[tp.Subject("")]
		if !ok {
			id = kafkatest.Register(t, s.reg.URL(), tp.Subject(""), tp.Schema())
			s.ids[tp.Subject("")] = id
		}
		v := []byte{0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(v[1:], uint32(id))
		v, err := tp.AppendAvro(v, smp)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.prod.ProduceSync(context.Background(), &kgo.Record{Topic: kafkaTopic, Value: v, Timestamp: at[i]}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// samples writes n samples of topic with mocksal, as a producer would
// forward them (its stamps set), seqNums from 1.
func samples(t testing.TB, topic *sal.Topic, index int32, n int, seed uint64) []*sal.Sample {
	t.Helper()
	bus := dds.NewBus()
	defer bus.Close()
	r, _ := bus.Subscribe(dds.ReaderConfig{Domain: 0, Topic: topic, Depth: n + 1})
	if _, err := mocksal.Run(context.Background(), bus, mocksal.WriterConfig{Topic: topic, Index: index, Count: n, Seed: seed, Origin: 4242}, nil); err != nil {
		t.Fatal(err)
	}
	var out []*sal.Sample
	for range n {
		s, _, err := r.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		snd := s.Get("private_sndStamp").(float64)
		s.Values[topic.FieldIndex("private_efdStamp")] = sal.UTCFromTAI(snd)
		s.Values[topic.FieldIndex("private_kafkaStamp")] = snd + 0.002
		out = append(out, s)
	}
	return out
}

// spaced is n times from t0, dt apart.
func spaced(t0 time.Time, dt time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t0.Add(time.Duration(i) * dt)
	}
	return out
}

// read decodes a recording with ifaces.
func read(t testing.TB, ifaces *sal.Interfaces, rec []byte) []mocksal.RecordedSample {
	t.Helper()
	var out []mocksal.RecordedSample
	if err := mocksal.ReadRecording(ifaces, bytes.NewReader(rec), func(rs mocksal.RecordedSample) error {
		out = append(out, rs)
		return nil
	}); err != nil {
		t.Fatalf("reading the recording: %v\n%.500s", err, rec)
	}
	return out
}

// sameValues compares two samples' values, NaN equal to NaN.
func sameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) && !nanEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func nanEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.IsNaN(x) && math.IsNaN(y)
	case float32:
		y, ok := b.(float32)
		return ok && math.IsNaN(float64(x)) && math.IsNaN(float64(y))
	case []float32:
		y, ok := b.([]float32)
		return ok && slices.EqualFunc(x, y, func(p, q float32) bool { return p == q || (p != p && q != q) })
	case []float64:
		y, ok := b.([]float64)
		return ok && slices.EqualFunc(x, y, func(p, q float64) bool { return p == q || (p != p && q != q) })
	}
	return false
}

// TestKafkaCapturesARange: three topics (one indexed, one a 50 Hz array
// topic) stamped over 3 s; the capture of [1 s, 2 s) holds exactly the
// records stamped then, every value as produced, t from their Kafka
// timestamps, in time order, each topic's schema carried once, and
// replays without the registry.
func TestKafkaCapturesARange(t *testing.T) {
	ifaces := interfaces(t)
	s := newSite(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type src struct {
		topic *sal.Topic
		index int32
		dt    time.Duration
	}
	srcs := []src{
		{ifaces.Topic("ATDome", "position"), 0, 250 * time.Millisecond},
		{ifaces.Topic("MTHexapod", "actuators"), 1, 50 * time.Millisecond},
		{ifaces.Topic("MTM1M3", "forceActuatorData"), 0, 20 * time.Millisecond},
	}
	type key struct {
		topic string
		seq   int32
	}
	want := map[key]*sal.Sample{}
	wantAt := map[key]time.Time{}
	for i, c := range srcs {
		n := int(3 * time.Second / c.dt)
		smp, at := samples(t, c.topic, c.index, n, uint64(i+1)), spaced(t0.Add(time.Duration(i)*time.Millisecond), c.dt, n)
		s.produce(t, c.topic.KafkaTopic(""), at, smp)
		for j := range smp {
			if !at[j].Before(t0.Add(time.Second)) && at[j].Before(t0.Add(2*time.Second)) {
				k := key{c.topic.FullName(), smp[j].Get("private_seqNum").(int32)}
				want[k], wantAt[k] = smp[j], at[j]
			}
		}
	}
	var rec bytes.Buffer
	st, err := Kafka(context.Background(), KafkaConfig{
		Brokers: s.brokers(), Topics: `lsst\.sal\..*`, Registry: s.reg.URL(),
		From: t0.Add(time.Second), To: t0.Add(2 * time.Second), Logger: quiet(),
	}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != len(want) || len(st.Topics) != 3 || st.Schemas != 3 {
		t.Fatalf("stats %+v, want %d samples of 3 topics, 3 schemas", st, len(want))
	}
	// The registry is not needed to read it back.
	s.reg.Close()
	got := read(t, ifaces, rec.Bytes())
	if len(got) != len(want) {
		t.Fatalf("%d samples recorded, want %d", len(got), len(want))
	}
	started := t0.Add(time.Second) // the first record in the range: ATDome's at 1 s
	last := -1.0
	for _, rs := range got {
		k := key{rs.Sample.Topic.FullName(), rs.Sample.Get("private_seqNum").(int32)}
		w := want[k]
		if w == nil {
			t.Fatalf("line %d: %v was not produced in the range", rs.Line, k)
		}
		if !sameValues(rs.Sample.Values, w.Values) {
			t.Errorf("line %d: %v: values differ from those produced", rs.Line, k)
		}
		if at := started.Add(time.Duration(math.Round(rs.T*1e3)) * time.Millisecond); !at.Equal(wantAt[k]) {
			t.Errorf("line %d: %v: t %.3f is %s, its Kafka timestamp %s", rs.Line, k, rs.T, at, wantAt[k])
		}
		if rs.T < last {
			t.Errorf("line %d: t %.3f after %.3f: not in time order", rs.Line, rs.T, last)
		}
		last = rs.T
		delete(want, k)
	}
	if n := bytes.Count(rec.Bytes(), []byte(`"avsc":`)); n != 3 {
		t.Errorf("%d schema lines, want one per topic", n)
	}
	// It replays on a bus with no registry around.
	bus := dds.NewBus()
	defer bus.Close()
	n, err := mocksal.Replay(context.Background(), bus, ifaces, bytes.NewReader(rec.Bytes()), mocksal.ReplayConfig{Domain: 0, Origin: 9}, nil)
	if err != nil || n != len(got) {
		t.Fatalf("replayed %d of %d: %v", n, len(got), err)
	}
}

// TestKafkaCapturesLive: a range still to come is waited for, and what
// is produced meanwhile is recorded, in a topic created meanwhile too.
func TestKafkaCapturesLive(t *testing.T) {
	ifaces := interfaces(t)
	s := newSite(t)
	pos := ifaces.Topic("ATDome", "position")
	s.produce(t, pos.KafkaTopic(""), []time.Time{time.Now().Add(-time.Hour)}, samples(t, pos, 0, 1, 1)) // the topic exists, before the range
	from := time.Now()
	to := from.Add(700 * time.Millisecond)
	done := make(chan error, 1)
	var rec bytes.Buffer
	go func() {
		_, err := Kafka(context.Background(), KafkaConfig{Brokers: s.brokers(), Topics: `lsst\.sal\.(ATDome\.position|MTHexapod\..*)`, Registry: s.reg.URL(), From: from, To: to, Logger: quiet()}, &rec)
		done <- err
	}()
	smp := samples(t, pos, 0, 5, 2)
	s.produce(t, pos.KafkaTopic(""), spaced(from.Add(100*time.Millisecond), 100*time.Millisecond, 5), smp)
	act := ifaces.Topic("MTHexapod", "actuators")
	late := samples(t, act, 1, 1, 3)
	s.produce(t, act.KafkaTopic(""), []time.Time{from.Add(600 * time.Millisecond)}, late)
	smp = append(smp, late...)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(to) {
		t.Error("the capture returned before its range ended")
	}
	got := read(t, ifaces, rec.Bytes())
	if len(got) != 6 {
		t.Fatalf("%d samples, want the 6 produced in the range", len(got))
	}
	for i, rs := range got {
		if !sameValues(rs.Sample.Values, smp[i].Values) {
			t.Errorf("sample %d differs", i)
		}
	}
}

// TestKafkaRemoteRegistries: a replica's schema ids are its source's;
// the capture resolves them in the remote registry of the alias its name
// starts with, the local topic's in the site's own. Through the local
// registry alone, the replica's id names the local topic's schema, and
// the capture refuses it, naming the place and both schemas.
func TestKafkaRemoteRegistries(t *testing.T) {
	rs := kafkatest.NewRemoteSite(t, 4)
	brokers := rs.Cluster.ListenAddrs()
	var rec bytes.Buffer
	st, err := Kafka(context.Background(), KafkaConfig{
		Brokers: brokers, Topics: `.*lsst\.sal\..*`, Registry: rs.Local.URL(), Remotes: map[string]string{"summit": rs.Remote.URL()},
		From: time.Now().Add(-time.Hour), To: time.Now().Add(2 * time.Millisecond), Logger: quiet(),
	}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != 8 || !slices.Equal(st.Topics, []string{"lsst.sal.ATDome.logevent_emergencyStop", "lsst.sal.Test.scalars"}) {
		t.Fatalf("stats %+v", st)
	}
	for _, want := range []string{`"subject":"lsst.sal.Test.scalars-value"`, `"subject":"lsst.sal.ATDome.logevent_emergencyStop-value"`} {
		if !strings.Contains(rec.String(), want) {
			t.Errorf("recording lacks %s", want)
		}
	}
	_, err = Kafka(context.Background(), KafkaConfig{
		Brokers: brokers, Topics: `summit\.lsst\..*`, Registry: rs.Local.URL(),
		From: time.Now().Add(-time.Hour), To: time.Now().Add(2 * time.Millisecond), Logger: quiet(),
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "topic summit.lsst.sal.Test.scalars partition 0 offset 0: schema id") ||
		!strings.Contains(err.Error(), "is lsst.sal.ATDome.logevent_emergencyStop, not lsst.sal.Test.scalars") {
		t.Fatalf("through the wrong registry: %v", err)
	}
}

// TestKafkaRefuses: what cannot be captured is one error saying where;
// errors in what was asked are bad input.
func TestKafkaRefuses(t *testing.T) {
	ifaces := interfaces(t)
	s := newSite(t)
	pos := ifaces.Topic("ATDome", "position")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.produce(t, pos.KafkaTopic(""), spaced(t0, time.Second, 3), samples(t, pos, 0, 3, 1))
	if err := s.prod.ProduceSync(context.Background(), &kgo.Record{Topic: "lsst.sal.ATDome.raw", Value: []byte("not avro"), Timestamp: t0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl, _ := sr.NewClient(sr.URLs(s.reg.URL()))
	ss, err := cl.CreateSchema(context.Background(), "lsst.dm.visit-value", sr.Schema{Schema: `{"type":"record","name":"visit","namespace":"lsst.dm","fields":[{"name":"x","type":"double"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	dm := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(dm[1:], uint32(ss.ID))
	if err := s.prod.ProduceSync(context.Background(), &kgo.Record{Topic: "lsst.dm.visit", Value: dm, Timestamp: t0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	base := KafkaConfig{Brokers: s.brokers(), Topics: `lsst\.sal\.ATDome\.position`, Registry: s.reg.URL(), From: t0, To: t0.Add(time.Hour), Logger: quiet()}
	cases := []struct {
		name string
		edit func(*KafkaConfig)
		want string
		bad  bool // bad input
	}{
		{"no topic matches", func(c *KafkaConfig) { c.Topics = `lsst\.sal\.Nope\..*` }, `no topic matches "lsst\\.sal\\.Nope\\..*" (topics there: `, true},
		{"not a regex", func(c *KafkaConfig) { c.Topics = `lsst(` }, "topic pattern", true},
		{"range backwards", func(c *KafkaConfig) { c.From, c.To = c.To, c.From }, "before it starts", true},
		{"no brokers", func(c *KafkaConfig) { c.Brokers = nil }, "no Kafka brokers", true},
		{"nothing in the range", func(c *KafkaConfig) { c.From, c.To = t0.Add(-2*time.Hour), t0.Add(-time.Hour) }, "no record of the 1 topics", false},
		{"not framed", func(c *KafkaConfig) { c.Topics = `lsst\.sal\.ATDome\.raw` }, "topic lsst.sal.ATDome.raw partition 0 offset 0: not Avro in the Confluent wire format", false},
		{"not SAL", func(c *KafkaConfig) { c.Topics = `lsst\.dm\.visit` }, "is lsst.dm.visit, not a SAL topic's", false},
		{"registry unreachable", func(c *KafkaConfig) { c.Registry = "http://127.0.0.1:1" }, "topic lsst.sal.ATDome.position partition 0 offset 0: schema id 1 at registry http://127.0.0.1:1", false},
		{"no registry", func(c *KafkaConfig) { c.Registry = "" }, "no registry given", false},
		{"not SAL topics", func(c *KafkaConfig) { c.Topics = `.*` }, `".*" matches topics that are no SAL topic's (lsst.<subname>.<CSC>.<topic>, or a replica of one): registry-schemas; narrow the pattern`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			var rec bytes.Buffer
			_, err := Kafka(context.Background(), cfg, &rec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if bad := errors.As(err, new(*exit.BadInput)); bad != c.bad {
				t.Errorf("bad input %v, want %v", bad, c.bad)
			}
			if rec.Len() != 0 {
				t.Errorf("wrote %d bytes", rec.Len())
			}
		})
	}
	var rec bytes.Buffer
	if st, err := Kafka(context.Background(), base, &rec); err != nil || st.Samples != 3 {
		t.Fatalf("the good capture: %+v, %v", st, err)
	}
}
