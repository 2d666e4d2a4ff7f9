package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	hregistry "github.com/hamba/avro/v2/registry"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/internal/kfault"
)

const schemaA = `{"type": "record", "name": "position", "namespace": "lsst.sal.ATDome", "fields": [{"name": "a", "type": "double", "default": 0.0}]}`
const schemaB = `{"type": "record", "name": "position", "namespace": "lsst.sal.ATDome", "fields": [{"name": "a", "type": "double", "default": 0.0}, {"name": "b", "type": "int", "default": 0}]}`

func startCluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func startRegistry(t testing.TB, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type call struct {
	method, path, body string
	status             int
	want               string // substring of the response body
}

func do(t *testing.T, base string, c call) string {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) {
		t.Errorf("%s %s: %d %s; want %d containing %q", c.method, c.path, resp.StatusCode, b, c.status, c.want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentType {
		t.Errorf("%s %s: content type %q", c.method, c.path, ct)
	}
	return string(b)
}

func body(schema string) string {
	b, _ := json.Marshal(map[string]string{"schema": schema})
	return string(b)
}

func TestAPI(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	calls := []call{
		{"GET", "/subjects", "", 200, "[]"},
		{"POST", "/subjects/lsst.sal.ATDome.position-value/versions", body(schemaA), 200, `{"id":1}`},
		{"POST", "/subjects/lsst.sal.ATDome.position-value/versions", body(schemaA), 200, `{"id":1}`},
		// The same schema, spelt differently (canonical form), is the same.
		{"POST", "/subjects/lsst.sal.ATDome.position-value/versions", body(strings.ReplaceAll(schemaA, " ", "")), 200, `{"id":1}`},
		{"POST", "/subjects/other-value/versions", body(schemaA), 200, `{"id":1}`},
		{"POST", "/subjects/lsst.sal.ATDome.position-value/versions", body(schemaB), 200, `{"id":2}`},
		{"GET", "/subjects", "", 200, `["lsst.sal.ATDome.position-value","other-value"]`},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions", "", 200, "[1,2]"},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions/latest", "", 200, `"version":2,"id":2`},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions/1", "", 200, `"version":1,"id":1`},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions/1/schema", "", 200, `"name": "position"`},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions/3", "", 404, `"error_code":40402`},
		{"GET", "/subjects/lsst.sal.ATDome.position-value/versions/x", "", 422, `"error_code":42202`},
		{"GET", "/subjects/nope/versions", "", 404, `"error_code":40401`},
		{"POST", "/subjects/lsst.sal.ATDome.position-value", body(schemaB), 200, `"version":2`},
		{"POST", "/subjects/other-value", body(schemaB), 404, `"error_code":40403`},
		{"GET", "/schemas/ids/2", "", 200, `"schema":`},
		{"GET", "/schemas/ids/2/versions", "", 200, `[{"subject":"lsst.sal.ATDome.position-value","version":2}]`},
		{"GET", "/schemas/ids/9", "", 404, `"error_code":40403`},
		{"POST", "/subjects/x-value/versions", body(`{"type": "nonsense"}`), 422, `"error_code":42201`},
		{"GET", "/schemas/types", "", 200, `["AVRO"]`},
		{"GET", "/mode", "", 200, `READWRITE`},
		{"GET", "/no/such/route", "", 404, `"error_code":404`},
	}
	for _, cl := range calls {
		do(t, s.URL(), cl)
	}
}

func TestFranzClientAndRestart(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	cl, err := sr.NewClient(sr.URLs(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ss, err := cl.CreateSchema(ctx, "a-value", sr.Schema{Schema: schemaA})
	if err != nil {
		t.Fatal(err)
	}
	ss2, err := cl.CreateSchema(ctx, "a-value", sr.Schema{Schema: schemaB})
	if err != nil {
		t.Fatal(err)
	}
	if ss.ID != 1 || ss.Version != 1 || ss2.ID != 2 || ss2.Version != 2 {
		t.Fatalf("ids/versions %d/%d, %d/%d", ss.ID, ss.Version, ss2.ID, ss2.Version)
	}
	got, err := cl.SchemaByID(ctx, 2)
	if err != nil || !strings.Contains(got.Schema, `"b"`) {
		t.Fatalf("SchemaByID: %v %v", got, err)
	}
	s.Close()
	// A second registry on the same topic serves the same ids.
	s2 := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	cl2, _ := sr.NewClient(sr.URLs(s2.URL()))
	v, err := cl2.SchemaByVersion(ctx, "a-value", 2)
	if err != nil || v.ID != 2 {
		t.Fatalf("after restart: %+v %v", v, err)
	}
	id, err := cl2.RegisterSchema(ctx, "b-value", sr.Schema{Schema: schemaB}, -1, -1)
	if err != nil || id != 2 {
		t.Fatalf("same schema, new subject after restart: id %d, %v; want 2", id, err)
	}
}

// TestRemoteMode copies the storage topic to another cluster as
// summit.registry-schemas, as replication does, and serves it read-only.
func TestRemoteMode(t *testing.T) {
	summit, usdf := startCluster(t), startCluster(t)
	s := startRegistry(t, Config{Brokers: summit.ListenAddrs()})
	cl, _ := sr.NewClient(sr.URLs(s.URL()))
	ctx := context.Background()
	for _, sub := range []string{"a-value", "b-value"} {
		if _, err := cl.RegisterSchema(ctx, sub, sr.Schema{Schema: schemaA}, -1, -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.RegisterSchema(ctx, "a-value", sr.Schema{Schema: schemaB}, -1, -1); err != nil {
		t.Fatal(err)
	}
	src, _ := kgo.NewClient(kgo.SeedBrokers(summit.ListenAddrs()...), kgo.ConsumeTopics(DefaultTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer src.Close()
	dst, _ := kgo.NewClient(kgo.SeedBrokers(usdf.ListenAddrs()...), kgo.AllowAutoTopicCreation())
	defer dst.Close()
	if err := usdf.CreateTopic("summit.registry-schemas", 1, nil); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for len(keys) < 3 {
		fs := src.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			keys = append(keys, string(r.Key))
			if err := dst.ProduceSync(ctx, &kgo.Record{Topic: "summit.registry-schemas", Key: r.Key, Value: r.Value}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, k := range keys {
		var m map[string]any
		if err := json.Unmarshal([]byte(k), &m); err != nil || m["keytype"] != "SCHEMA" || m["magic"] != float64(1) || m["subject"] == nil {
			t.Errorf("storage key %s is not Confluent's SCHEMA key", k)
		}
	}
	remote := startRegistry(t, Config{Brokers: usdf.ListenAddrs(), Topic: "summit.registry-schemas", ReadOnly: true})
	rc, _ := sr.NewClient(sr.URLs(remote.URL()))
	for id := 1; id <= 2; id++ {
		a, err1 := cl.SchemaByID(ctx, id)
		b, err2 := rc.SchemaByID(ctx, id)
		if err1 != nil || err2 != nil || a.Schema != b.Schema {
			t.Errorf("id %d: summit %q (%v), remote %q (%v)", id, a.Schema, err1, b.Schema, err2)
		}
	}
	do(t, remote.URL(), call{"POST", "/subjects/c-value/versions", body(schemaA), 422, `"error_code":42205`})
	do(t, remote.URL(), call{"GET", "/mode", "", 200, "READONLY"})
}

const schemaBreaking = `{"type": "record", "name": "position", "namespace": "lsst.sal.ATDome", "fields": [{"name": "a", "type": "string", "default": ""}]}`

func TestCompatibilityDeleteConfigMode(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	calls := []call{
		{"GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"POST", "/subjects/p-value/versions", body(schemaA), 200, `{"id":1}`},
		// A breaking change is refused under BACKWARD, with the reason.
		{"POST", "/subjects/p-value/versions", body(schemaBreaking), 409, `"error_code":409`},
		{"POST", "/compatibility/subjects/p-value/versions/latest", body(schemaBreaking), 200, `{"is_compatible":false}`},
		{"POST", "/compatibility/subjects/p-value/versions/latest?verbose=true", body(schemaBreaking), 200, `"messages":["BACKWARD: the new schema cannot read`},
		{"POST", "/compatibility/subjects/p-value/versions/1", body(schemaB), 200, `{"is_compatible":true}`},
		{"POST", "/compatibility/subjects/nope/versions/latest", body(schemaB), 404, `"error_code":40401`},
		{"GET", "/config/p-value", "", 404, `"error_code":40408`},
		{"GET", "/config/p-value?defaultToGlobal=true", "", 200, `BACKWARD`},
		{"PUT", "/config/p-value", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`},
		{"PUT", "/config/p-value", `{"compatibility":"SOMETIMES"}`, 422, `"error_code":42203`},
		{"GET", "/config/p-value", "", 200, `{"compatibilityLevel":"NONE"}`},
		{"POST", "/subjects/p-value/versions", body(schemaBreaking), 200, `{"id":2}`},
		{"PUT", "/config", `{"compatibility":"FULL"}`, 200, `{"compatibility":"FULL"}`},
		{"DELETE", "/config/p-value", "", 200, `NONE`},
		{"GET", "/config/p-value", "", 404, `"error_code":40408`},
		// Deletes: soft, then permanent; permanent first is refused.
		{"DELETE", "/subjects/p-value/versions/1?permanent=true", "", 404, `"error_code":40407`},
		{"DELETE", "/subjects/p-value/versions/1", "", 200, `1`},
		{"GET", "/subjects/p-value/versions", "", 200, `[2]`},
		{"GET", "/subjects/p-value/versions/1", "", 404, `"error_code":40402`},
		{"GET", "/schemas/ids/1", "", 200, `"schema"`}, // ids stay resolvable: records still carry them
		{"DELETE", "/subjects/p-value/versions/1?permanent=true", "", 200, `1`},
		{"DELETE", "/subjects/p-value?permanent=true", "", 404, `"error_code":40405`},
		{"DELETE", "/subjects/p-value", "", 200, `[2]`},
		{"GET", "/subjects", "", 200, `[]`},
		{"GET", "/subjects?deleted=true", "", 200, `["p-value"]`},
		{"DELETE", "/subjects/p-value", "", 404, `"error_code":40404`},
		{"DELETE", "/subjects/p-value?permanent=true", "", 200, `[2]`},
		{"GET", "/subjects?deleted=true", "", 200, `[]`},
		// Mode READONLY refuses writes.
		{"PUT", "/mode", `{"mode":"READONLY"}`, 200, `{"mode":"READONLY"}`},
		{"POST", "/subjects/q-value/versions", body(schemaA), 422, `"error_code":42205`},
		{"PUT", "/mode", `{"mode":"SLEEPY"}`, 422, `"error_code":42204`},
		{"PUT", "/mode", `{"mode":"READWRITE"}`, 200, `READWRITE`},
		{"POST", "/subjects/q-value/versions", body(schemaA), 200, `{"id":1}`},
	}
	for _, cl := range calls {
		do(t, s.URL(), cl)
	}
	// A restarted registry reads the same config and deletes back.
	s.Close()
	s2 := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	for _, cl := range []call{
		{"GET", "/config", "", 200, `FULL`},
		{"GET", "/subjects", "", 200, `["q-value"]`},
		{"GET", "/mode", "", 200, `READWRITE`},
	} {
		do(t, s2.URL(), cl)
	}
}

// TestHambaClient: hamba/avro's registry client, written by others against
// Confluent's registry, round-trips against this one.
func TestHambaClient(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	cl, err := hregistry.NewClient(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, _, err := cl.CreateSchema(ctx, "h-value", schemaA)
	if err != nil || id != 1 {
		t.Fatalf("CreateSchema: %d %v", id, err)
	}
	if id2, _, err := cl.IsRegistered(ctx, "h-value", schemaA); err != nil || id2 != id {
		t.Fatalf("IsRegistered: %d %v", id2, err)
	}
	if ok, err := cl.IsCompatible(ctx, "h-value", schemaB); err != nil || !ok {
		t.Fatalf("IsCompatible(B): %v %v", ok, err)
	}
	if ok, err := cl.IsCompatible(ctx, "h-value", schemaBreaking); err != nil || ok {
		t.Fatalf("IsCompatible(breaking): %v %v", ok, err)
	}
	if _, _, err := cl.CreateSchema(ctx, "h-value", schemaB); err != nil {
		t.Fatal(err)
	}
	got, err := cl.GetSchema(ctx, 2)
	if err != nil || !strings.Contains(got.String(), `"b"`) {
		t.Fatalf("GetSchema(2): %v %v", got, err)
	}
	if info, err := cl.GetLatestSchemaInfo(ctx, "h-value"); err != nil || info.Version != 2 || info.ID != 2 {
		t.Fatalf("GetLatestSchemaInfo: %+v %v", info, err)
	}
	if subs, err := cl.GetSubjects(ctx); err != nil || len(subs) != 1 {
		t.Fatalf("GetSubjects: %v %v", subs, err)
	}
	if err := cl.SetCompatibilityLevel(ctx, "h-value", "FULL"); err != nil {
		t.Fatal(err)
	}
	// hamba's GetCompatibilityLevel reads "compatibility", a key that
	// Confluent's GET /config does not send ("compatibilityLevel"); this
	// registry answers as Confluent does, so read the level back raw.
	do(t, s.URL(), call{"GET", "/config/h-value", "", 200, `{"compatibilityLevel":"FULL"}`})
	if vs, err := cl.DeleteSubject(ctx, "h-value"); err != nil || len(vs) != 2 {
		t.Fatalf("DeleteSubject: %v %v", vs, err)
	}
}

// TestPrimaryAndReplicaAgree: a read-only registry on the primary's own
// topic serves the ids the primary hands out.
func TestPrimaryAndReplicaAgree(t *testing.T) {
	c := startCluster(t)
	primary := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	replica := startRegistry(t, Config{Brokers: c.ListenAddrs(), ReadOnly: true})
	pc, _ := sr.NewClient(sr.URLs(primary.URL()))
	rc, _ := sr.NewClient(sr.URLs(replica.URL()))
	ctx := context.Background()
	for i, schema := range []string{schemaA, schemaB} {
		id, err := pc.RegisterSchema(ctx, "s-value", sr.Schema{Schema: schema}, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		// The replica serves the record once its reader reached it.
		if err := replica.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := rc.SchemaByVersion(ctx, "s-value", i+1)
		if err != nil || got.ID != id {
			t.Fatalf("version %d: replica has id %d (%v), primary gave %d", i+1, got.ID, err, id)
		}
	}
	if _, err := rc.RegisterSchema(ctx, "x-value", sr.Schema{Schema: schemaA}, -1, -1); err == nil {
		t.Fatal("the replica took a write")
	}
}

// TestIdConflictFlagged writes into a registry's storage topic the record
// another registry wrote for its own id 1 (what identity replication of
// registry-schemas does): the registry keeps its schema for id 1, refuses
// the record, and reports the conflict.
func TestIdConflictFlagged(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	do(t, s.URL(), call{"POST", "/subjects/lsst.sal.Test.scalars-value/versions", body(schemaA), 200, `{"id":1}`})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	other, _ := json.Marshal(schemaValue{Subject: "lsst.sal.ATDome.position-value", Version: 1, ID: 1, Schema: schemaB})
	same, _ := json.Marshal(schemaValue{Subject: "copy-value", Version: 1, ID: 1, Schema: schemaA})
	for _, v := range [][]byte{other, same} {
		var k schemaKey
		_ = json.Unmarshal(v, &k)
		key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: k.Subject, Version: 1})
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "registry-schemas", Key: key, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Both records are in the topic; the registry has them once its reader
	// reached them, not when the producer was answered.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if conflicts := s.Conflicts(); len(conflicts) != 1 || conflicts[0].ID != 1 || conflicts[0].Subject != "lsst.sal.ATDome.position-value" {
		t.Fatalf("conflicts %+v, want the ATDome record's id 1", conflicts)
	}
	do(t, s.URL(), call{"GET", "/schemas/ids/1", "", 200, `\"a\"`})
	do(t, s.URL(), call{"GET", "/subjects/lsst.sal.ATDome.position-value/versions", "", 404, `"error_code":40401`})
	// A record that gives id 1 to the schema it already is, is no conflict.
	do(t, s.URL(), call{"GET", "/subjects/copy-value/versions", "", 200, "[1]"})
}

// TestWriteReadsOthersRecordsFirst: a record another writer put in the
// storage topic (here id 2, as a second registry would hand out) counts
// before the registry decides a registration, even while its reader lags:
// the next schema gets id 3, not an id that already means another schema.
func TestWriteReadsOthersRecordsFirst(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	do(t, s.URL(), call{"POST", "/subjects/a-value/versions", body(schemaA), 200, `{"id":1}`})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The registry's reader gets nothing new for half a second.
	key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: "b-value", Version: 1, Magic: 1})
	value, _ := json.Marshal(schemaValue{Subject: "b-value", Version: 1, ID: 2, Schema: schemaB})
	writeBehindReader(ctx, t, c, 500*time.Millisecond, &kgo.Record{Topic: DefaultTopic, Key: key, Value: value})
	do(t, s.URL(), call{"POST", "/subjects/c-value/versions", body(schemaBreaking), 200, `{"id":3}`})
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := s.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicts %v", c)
	}
	do(t, s.URL(), call{"GET", "/schemas/ids/2/versions", "", 200, `[{"subject":"b-value","version":1}]`})
}

// TestSyncEndsWithItsContext: Sync on a registry whose reader gets
// nothing returns when its context ends, saying so.
func TestSyncEndsWithItsContext(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	writeBehindReader(ctx, t, c, 10*time.Second, &kgo.Record{Topic: DefaultTopic, Key: []byte(`{"keytype":"NOOP","magic":0}`)})
	sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer scancel()
	if err := s.Sync(sctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reading registry-schemas to offset 1") {
		t.Fatalf("Sync: %v, want the deadline reading to offset 1", err)
	}
}

// writeBehindReader holds the registry's fetches of its storage topic for
// d, once its reader has fetched, and writes rec meanwhile, as another
// writer would while the registry's reader lags.
func writeBehindReader(ctx context.Context, t *testing.T, c *kfake.Cluster, d time.Duration, rec *kgo.Record) {
	t.Helper()
	select {
	case <-kfault.HoldFetches(c, DefaultTopic, d):
	case <-ctx.Done():
		t.Fatal("the registry's reader did not fetch")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestBasicAuth serves only the registry's users: no credentials and a
// wrong password get Confluent's 401 with a challenge, the user's own get
// served, and franz-go's client with sr.BasicAuth registers through it.
func TestBasicAuth(t *testing.T) {
	c := startCluster(t)
	s := startRegistry(t, Config{Brokers: c.ListenAddrs(), Users: map[string]string{"teststand": "s3cret-pass"}})
	cases := []struct {
		user, pass string
		want       int
	}{
		{"", "", http.StatusUnauthorized},
		{"teststand", "wrong", http.StatusUnauthorized},
		{"other", "s3cret-pass", http.StatusUnauthorized},
		{"teststand", "s3cret-pass", http.StatusOK},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/subjects", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%q/%q: status %d (%s), want %d", tc.user, tc.pass, resp.StatusCode, b, tc.want)
		}
		if tc.want == http.StatusUnauthorized && (resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(string(b), `"error_code":401`)) {
			t.Errorf("%q: 401 without a challenge or Confluent's error body: %q %s", tc.user, resp.Header.Get("WWW-Authenticate"), b)
		}
	}
	ctx := context.Background()
	open, _ := sr.NewClient(sr.URLs(s.URL()))
	if _, err := open.RegisterSchema(ctx, "x-value", sr.Schema{Schema: `"string"`}, -1, -1); err == nil {
		t.Error("a client without credentials registered a schema")
	}
	authed, _ := sr.NewClient(sr.URLs(s.URL()), sr.BasicAuth("teststand", "s3cret-pass"))
	if _, err := authed.RegisterSchema(ctx, "x-value", sr.Schema{Schema: `"string"`}, -1, -1); err != nil {
		t.Errorf("the registry's user could not register: %v", err)
	}
}
