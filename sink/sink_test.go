package sink

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/registry"
)

// influx is one real influxd shared by the package's tests; each test
// uses databases of its own.
var influx *influxd.Server

func TestMain(m *testing.M) {
	bin, err := influxd.Find("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	influx, err = influxd.Start(context.Background(), bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	influx.Stop()
	os.Exit(code)
}

const salSchema = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},
 {"name":"x","type":"double"},{"name":"s","type":"string"},{"name":"ok","type":"boolean"},
 {"name":"v","type":{"type":"array","items":"float"}}]}`

// conflictSchema gives x another type in the same measurement: InfluxDB
// refuses such points with a 400 (field type conflict).
const conflictSchema = `{"type":"record","name":"scalars","namespace":"lsst.sal.Test","fields":[
 {"name":"private_efdStamp","type":"double"},{"name":"private_seqNum","type":"int"},{"name":"x","type":"string"}]}`

const dmSchema = `{"type":"record","name":"visit","namespace":"lsst.dm.rubin","fields":[
 {"name":"timestamp","type":"long"},{"name":"instrument","type":"string"},{"name":"seeing","type":"double"}]}`

type rig struct {
	cluster *kfake.Cluster
	reg     *registry.Server
	prod    *kgo.Client
	ids     map[string]int
	codecs  map[string]*goavro.Codec
}

func newRig(t *testing.T) *rig {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lsst.sal.Test.scalars", "lsst.dm.rubin.visit"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	r := &rig{cluster: c, reg: reg, prod: prod, ids: map[string]int{}, codecs: map[string]*goavro.Codec{}}
	for name, schema := range map[string]string{"sal": salSchema, "conflict": conflictSchema, "dm": dmSchema} {
		subject := name + "-value"
		ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		r.ids[name] = ss.ID
		if r.codecs[name], err = goavro.NewCodec(schema); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// produce writes one record of schema name (id overrides the schema id
// when not 0) to topic.
func (r *rig) produce(t *testing.T, topic, name string, id int, rec map[string]any) {
	t.Helper()
	if id == 0 {
		id = r.ids[name]
	}
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	v, err := r.codecs[name].BinaryFromNative(v, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.prod.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) sal(t *testing.T, i int, x float64) {
	r.produce(t, "lsst.sal.Test.scalars", "sal", 0, map[string]any{
		"private_efdStamp": 1700000000 + float64(i)*0.0005, "private_seqNum": int32(i),
		"x": x, "s": fmt.Sprint("s", i), "ok": i%2 == 0, "v": []any{float32(i), float32(-i)},
	})
}

func count(t *testing.T, db, q string) int {
	t.Helper()
	c := &influxd.Client{URL: influx.URL()}
	series, err := c.Query(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range series {
		n += len(s.Values)
	}
	return n
}

func runSink(t *testing.T, cfg Config) (*Sink, func()) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return s, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	c := wait.ForCondition(what, func(context.Context) error {
		if !ok() {
			return errors.New("not yet")
		}
		return nil
	}).WithTimeout(20 * time.Second)
	c.Interval = 20 * time.Millisecond
	if err := c.WaitUntilReady(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSinkRoutesMapsAndReports: SAL records go to one database and DM
// records to another with their own time field; points 0.5 ms apart are
// not merged; a NaN is left out and counted; a record with an unknown
// schema id, one not in the wire format and one InfluxDB refuses are each
// reported and skipped while everything else is written.
func TestSinkRoutesMapsAndReports(t *testing.T) {
	r := newRig(t)
	for i := range 10 {
		x := float64(i) * 1.5
		if i == 3 {
			x = math.NaN()
		}
		r.sal(t, i, x)
	}
	r.produce(t, "lsst.sal.Test.scalars", "conflict", 0, map[string]any{"private_efdStamp": 1700000001.0, "private_seqNum": int32(100), "x": "text"})
	r.produce(t, "lsst.sal.Test.scalars", "sal", 999, map[string]any{
		"private_efdStamp": 1700000002.0, "private_seqNum": int32(101), "x": 1.0, "s": "", "ok": true, "v": []any{}})
	if err := r.prod.ProduceSync(context.Background(), &kgo.Record{Topic: "lsst.sal.Test.scalars", Value: []byte("not avro")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r.produce(t, "lsst.dm.rubin.visit", "dm", 0, map[string]any{"timestamp": int64(1700000000000 + i), "instrument": "LATISS", "seeing": 0.7 + float64(i)})
	}
	s, stop := runSink(t, Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: influx.URL(),
		Rules: []Rule{
			{Topics: []string{`lsst\.sal\..*`}, Database: "t1_efd"},
			{Topics: []string{`lsst\.dm\..*`}, Database: "t1_dm", Timestamp: "timestamp", TimestampFormat: "unix_ms", Tags: []string{"instrument"}},
		},
		CreateDatabases: true, SchemaWait: 300 * time.Millisecond,
	})
	defer stop()
	waitFor(t, "13 points, 1 rejected, 2 decode errors", func() bool {
		return s.Stats.Points.Load() >= 13 && s.Stats.Rejected.Load() == 1 && s.Stats.DecodeErrors.Load() == 2
	})
	if n := count(t, "t1_efd", `SELECT "s" FROM "lsst.sal.Test.scalars"`); n != 10 {
		t.Errorf("%d SAL points, want 10 (0.5 ms apart, none merged)", n)
	}
	if n := count(t, "t1_efd", `SELECT "x" FROM "lsst.sal.Test.scalars" WHERE "private_seqNum" = 3`); n != 0 {
		t.Errorf("the NaN was written")
	}
	if got := s.Stats.NonFinite.Load(); got != 1 {
		t.Errorf("NonFinite %d, want 1", got)
	}
	if n := count(t, "t1_efd", `SELECT "v0","v1","ok" FROM "lsst.sal.Test.scalars" WHERE "private_seqNum" = 4 AND "v1" = -4 AND "ok" = true`); n != 1 {
		t.Errorf("array flattened to v0, v1 with the values written: %d points match", n)
	}
	if n := count(t, "t1_dm", `SELECT "seeing" FROM "lsst.dm.rubin.visit" WHERE "instrument" = 'LATISS' AND time = 1700000000002000000`); n != 1 {
		t.Errorf("DM point with its own time and tag: %d found", n)
	}
}

// TestServerErrorsAreRetried puts a proxy that answers 503 to the first
// writes between the sink and InfluxDB: the sink retries, loses nothing.
func TestServerErrorsAreRetried(t *testing.T) {
	r := newRig(t)
	for i := range 20 {
		r.sal(t, i, float64(i))
	}
	target, _ := url.Parse(influx.URL())
	var refused atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/api/v2/write" && refused.Add(1) <= 3 {
			http.Error(w, `{"code":"unavailable","message":"overloaded"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	defer srv.Close()
	s, stop := runSink(t, Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: srv.URL,
		Rules: []Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "t2_efd"}}, CreateDatabases: true,
	})
	defer stop()
	waitFor(t, "20 points", func() bool { return s.Stats.Points.Load() >= 20 })
	if got := s.Stats.WriteErrors.Load(); got != 3 {
		t.Errorf("WriteErrors %d, want the 3 refusals", got)
	}
	if n := count(t, "t2_efd", `SELECT "x" FROM "lsst.sal.Test.scalars"`); n != 20 {
		t.Errorf("%d points, want 20", n)
	}
}

// TestRepairRewritesHistory: after the database lost its data, a repairer
// reads the topics from the oldest offset, rewrites every point and
// returns once caught up.
func TestRepairRewritesHistory(t *testing.T) {
	r := newRig(t)
	for i := range 30 {
		r.sal(t, i, float64(i))
	}
	cfg := Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: influx.URL(),
		Rules: []Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "t3_efd"}}, CreateDatabases: true,
	}
	s, stop := runSink(t, cfg)
	waitFor(t, "30 points", func() bool { return s.Stats.Points.Load() >= 30 })
	stop()
	c := &influxd.Client{URL: influx.URL()}
	if err := c.Exec(context.Background(), `DROP DATABASE "t3_efd"`); err != nil {
		t.Fatal(err)
	}
	cfg.Repair, cfg.Logger = true, quiet()
	rep, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rep.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the repairer did not return once caught up")
	}
	if n := count(t, "t3_efd", `SELECT "x" FROM "lsst.sal.Test.scalars"`); n != 30 {
		t.Errorf("%d points after repair, want 30", n)
	}
}

// TestLeftoverBytesAreRefused: a value holds one Avro datum, so one that
// its schema decodes without using every byte was written with another
// schema (an id resolved in the wrong registry whose names happen to
// pass): reported and skipped, not written.
func TestLeftoverBytesAreRefused(t *testing.T) {
	r := newRig(t)
	r.sal(t, 0, 1.5)
	rec := map[string]any{"private_efdStamp": 1700000001.0, "private_seqNum": int32(1), "x": 2.5, "s": "", "ok": true, "v": []any{}}
	v, err := r.codecs["sal"].BinaryFromNative(frame(r.ids["sal"]), rec)
	if err != nil {
		t.Fatal(err)
	}
	v = append(v, 0x02, 0x04, 0x06)
	if err := r.prod.ProduceSync(context.Background(), &kgo.Record{Topic: "lsst.sal.Test.scalars", Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s, stop := runSink(t, Config{
		Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: influx.URL(),
		Rules: []Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "t4_efd"}}, CreateDatabases: true,
	})
	defer stop()
	waitFor(t, "a point and a decode error", func() bool { return s.Stats.Points.Load()+s.Stats.DecodeErrors.Load() >= 2 })
	if s.Stats.Points.Load() != 1 || s.Stats.DecodeErrors.Load() != 1 {
		t.Errorf("%d points, %d decode errors; want 1 and 1", s.Stats.Points.Load(), s.Stats.DecodeErrors.Load())
	}
	if n := count(t, "t4_efd", `SELECT "x" FROM "lsst.sal.Test.scalars" WHERE "private_seqNum" = 1`); n != 0 {
		t.Errorf("the record with bytes left over was written")
	}
}

// TestCredentials: on an InfluxDB with authentication on, a sink without
// credentials, or with a wrong password, writes nothing and skips
// nothing (every write refused, retried, no point rejected, no offset
// committed), and its database creation is refused; a sink of the same
// group with the admin's credentials then writes every point.
func TestCredentials(t *testing.T) {
	bin, err := influxd.Find("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := influxd.StartAuth(ctx, bin, "efdwriter", "s3cret-Pass")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	admin := srv.Client()
	if err := admin.CreateDatabase(ctx, "efd"); err != nil {
		t.Fatal(err)
	}
	r := newRig(t)
	for i := range 20 {
		r.sal(t, i, float64(i))
	}
	cfg := Config{Brokers: r.cluster.ListenAddrs(), RegistryURL: r.reg.URL(), InfluxURL: srv.URL(), GroupID: "efd",
		Rules: []Rule{{Topics: []string{`lsst\.sal\..*`}, Database: "efd"}}}
	for name, user := range map[string][2]string{"no credentials": {}, "a wrong password": {"efdwriter", "wrong"}} {
		bad := cfg
		bad.Username, bad.Password = user[0], user[1]
		s, stop := runSink(t, bad)
		waitFor(t, "refused writes with "+name, func() bool { return s.Stats.WriteErrors.Load() >= 2 })
		stop()
		if s.Stats.Points.Load() != 0 || s.Stats.Rejected.Load() != 0 {
			t.Errorf("with %s: %d points written, %d rejected: want none (a refusal of the credentials skips nothing)", name, s.Stats.Points.Load(), s.Stats.Rejected.Load())
		}
		create := bad
		create.CreateDatabases = true
		s, err := New(create)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("creating databases with %s: %v, want a 401", name, err)
		}
	}
	series, err := admin.Query(ctx, "efd", `SELECT count("x") FROM "lsst.sal.Test.scalars"`)
	if err != nil || len(series) != 0 {
		t.Fatalf("after the refused sinks: %v, %v: want no point", series, err)
	}
	good := cfg
	good.Username, good.Password, good.CreateDatabases = "efdwriter", "s3cret-Pass", true
	s, stop := runSink(t, good)
	defer stop()
	waitFor(t, "20 points", func() bool { return s.Stats.Points.Load() >= 20 })
	points, err := admin.Points(ctx, "efd", "lsst.sal.Test.scalars")
	if err != nil || len(points) != 20 {
		t.Fatalf("%d points, %v: want the 20 the refused sinks left uncommitted", len(points), err)
	}
}
