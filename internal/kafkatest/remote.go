package kafkatest

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/registry"
)

// Two schemas whose records decode as each other's: a record read with
// the other's schema is a plausible point of the other measurement, not
// an error. RemoteSite registers them with the same id in two registries.
const (
	ScalarsSchema = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"x","type":"double"}]}`
	StopSchema = `{"type":"record","name":"logevent_emergencyStop","namespace":"lsst.sal.ATDome","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"level","type":"double"}]}`
	// LocalTopic is produced at the site with StopSchema, ReplicaTopic
	// replicated from the summit with ScalarsSchema.
	LocalTopic   = "lsst.sal.ATDome.logevent_emergencyStop"
	ReplicaTopic = "summit.lsst.sal.Test.scalars"
)

// Site is one embedded Kafka cluster with its schema registry.
type Site struct {
	Cluster  *kfake.Cluster
	Registry *registry.Server
}

// NewSite starts a Site of one broker (and opts, e.g. seeded topics); the
// test's cleanup stops it.
func NewSite(t testing.TB, opts ...kfake.Opt) *Site {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	reg, err := registry.Start(context.Background(), registry.Config{Brokers: c.ListenAddrs(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return &Site{Cluster: c, Registry: reg}
}

// RemoteSite is a site of Sasquatch's remote context on one embedded
// cluster: the local registry (registry-schemas) and a read-only remote
// registry on summit.registry-schemas (written here by the summit's
// registry, as replication would). The local topic's schema and the
// replicated topic's have the same id, each in its own registry, and
// each topic holds N records: local seqNum 0..N-1, replicated 100..,
// at times that never coincide.
type RemoteSite struct {
	Cluster       *kfake.Cluster
	Local, Remote *registry.Server
	// ID is the id both schemas have.
	ID int
}

// NewRemoteSite starts a RemoteSite with n records in each topic; the
// test's cleanup stops it.
func NewRemoteSite(t testing.TB, n int) *RemoteSite {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, LocalTopic, ReplicaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	start := func(cfg registry.Config) *registry.Server {
		cfg.Brokers, cfg.Logger = c.ListenAddrs(), slog.New(slog.NewTextHandler(io.Discard, nil))
		s, err := registry.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	site := &RemoteSite{Cluster: c, Local: start(registry.Config{})}
	summit := start(registry.Config{Topic: "summit.registry-schemas"})
	site.Remote = start(registry.Config{Topic: "summit.registry-schemas", ReadOnly: true})
	site.ID = Register(t, site.Local.URL(), LocalTopic+"-value", StopSchema)
	if other := Register(t, summit.URL(), "lsst.sal.Test.scalars-value", ScalarsSchema); other != site.ID {
		t.Fatalf("ids %d and %d do not collide", site.ID, other)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range n {
		ProduceAvro(t, prod, LocalTopic, StopSchema, site.ID, map[string]any{"private_efdStamp": 1.7e9 + float64(i), "private_seqNum": int32(i), "level": float64(i)})
		ProduceAvro(t, prod, ReplicaTopic, ScalarsSchema, site.ID, map[string]any{"private_efdStamp": 1.7e9 + 10 + float64(i), "private_seqNum": int32(100 + i), "x": float64(i) / 2})
	}
	return site
}

// Register registers schema under subject at the registry at url and
// returns its id.
func Register(t testing.TB, url, subject, schema string) int {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.CreateSchema(context.Background(), subject, sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return ss.ID
}

// ProduceAvro writes rec to topic in the Confluent wire format with
// schema id.
func ProduceAvro(t testing.TB, prod *kgo.Client, topic, schema string, id int, rec map[string]any) {
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
