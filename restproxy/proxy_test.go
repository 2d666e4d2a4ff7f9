package restproxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/registry"
)

const metricSchema = `{"type": "record", "name": "photometricRepeatability", "namespace": "lsst.dm",
 "fields": [{"name": "timestamp", "type": "double"}, {"name": "instrument", "type": "string"},
            {"name": "band", "type": "string"}, {"name": "value", "type": "double"},
            {"name": "note", "type": ["null", "string"], "default": null}]}`

type bed struct {
	cluster *kfake.Cluster
	url     string
	proxy   *Proxy
}

func newBed(t *testing.T, tokens map[string][]string) *bed {
	t.Helper()
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "lsst.dm.photometricRepeatability"), kfake.SeedTopics(1, "lsst.sal.ATDome.position"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	quiet := slog.New(slog.DiscardHandler)
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	p, err := New(Config{Brokers: c.ListenAddrs(), RegistryURL: reg.URL(), Tokens: tokens, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return &bed{cluster: c, url: srv.URL, proxy: p}
}

// call makes one request and decodes the JSON answer.
func (b *bed) call(t *testing.T, method, path, contentType, token, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out, string(data)
}

func produceBody(schema string, id int, values ...string) string {
	var b strings.Builder
	b.WriteString("{")
	if schema != "" {
		s, _ := json.Marshal(schema)
		b.WriteString(`"value_schema": ` + string(s) + `, `)
	}
	if id != 0 {
		b.WriteString(`"value_schema_id": ` + strconv.Itoa(id) + `, `)
	}
	b.WriteString(`"records": [`)
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"value": ` + v + `}`)
	}
	b.WriteString("]}")
	return b.String()
}

const avroType = "application/vnd.kafka.avro.v2+json"

// TestProduceAvro posts metrics with a schema, then by schema id: the
// records in Kafka are the Confluent wire format of the registered id and
// decode to the values posted, a union member included.
func TestProduceAvro(t *testing.T) {
	b := newBed(t, nil)
	v1 := `{"timestamp": 1700000000.25, "instrument": "LSSTCam", "band": "r", "value": 4.5, "note": {"string": "first"}}`
	v2 := `{"timestamp": 1700000001.5, "instrument": "LSSTCam", "band": "i", "value": 5.5, "note": null}`
	status, out, raw := b.call(t, "POST", "/topics/lsst.dm.photometricRepeatability", avroType, "", produceBody(metricSchema, 0, v1))
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	id := int(out["value_schema_id"].(float64))
	if offs := out["offsets"].([]any); len(offs) != 1 || offs[0].(map[string]any)["offset"] == nil {
		t.Fatalf("offsets %s", raw)
	}
	status, out, raw = b.call(t, "POST", "/topics/lsst.dm.photometricRepeatability", avroType+"; charset=utf-8", "", produceBody("", id, v2))
	if status != 200 || int(out["value_schema_id"].(float64)) != id {
		t.Fatalf("by id: status %d: %s", status, raw)
	}
	codec, err := goavro.NewCodec(metricSchema)
	if err != nil {
		t.Fatal(err)
	}
	recs := consume(t, b, "lsst.dm.photometricRepeatability", 2)
	want := []map[string]any{
		{"timestamp": 1700000000.25, "band": "r", "value": 4.5, "note": map[string]any{"string": "first"}},
		{"timestamp": 1700000001.5, "band": "i", "value": 5.5, "note": nil},
	}
	for _, r := range recs {
		if r.Value[0] != 0 || int(binary.BigEndian.Uint32(r.Value[1:5])) != id {
			t.Fatalf("not wire format of id %d: % x", id, r.Value[:5])
		}
		native, _, err := codec.NativeFromBinary(r.Value[5:])
		if err != nil {
			t.Fatal(err)
		}
		m := native.(map[string]any)
		i := 0
		if m["band"] == "i" {
			i = 1
		}
		for k, v := range want[i] {
			got, _ := json.Marshal(m[k])
			exp, _ := json.Marshal(v)
			if !bytes.Equal(got, exp) {
				t.Errorf("record %d field %s: %s, want %s", i, k, got, exp)
			}
		}
	}
}

// TestProduceJSONAndPartition writes JSON values as their bytes, to the
// partition the request names.
func TestProduceJSONAndPartition(t *testing.T) {
	b := newBed(t, nil)
	status, out, raw := b.call(t, "POST", "/topics/lsst.dm.photometricRepeatability/partitions/2", "application/vnd.kafka.json.v2+json", "",
		`{"records": [{"key": "k1", "value": {"a": 1}}, {"value": [1, 2]}]}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	for _, o := range out["offsets"].([]any) {
		if o.(map[string]any)["partition"].(float64) != 2 {
			t.Fatalf("offsets %s: want partition 2", raw)
		}
	}
	recs := consume(t, b, "lsst.dm.photometricRepeatability", 2)
	got := map[string]string{}
	for _, r := range recs {
		got[string(r.Value)] = string(r.Key)
	}
	if got[`{"a": 1}`] != `"k1"` || got[`[1, 2]`] != "" {
		t.Fatalf("records %v", got)
	}
}

// TestErrors: each bad request gets the REST proxy's status and code, and
// nothing is written.
func TestErrors(t *testing.T) {
	b := newBed(t, map[string][]string{"dm-token": {"lsst.dm", "lsst.verify"}})
	const topic = "/topics/lsst.dm.photometricRepeatability"
	good := `{"timestamp": 1, "instrument": "x", "band": "r", "value": 1, "note": null}`
	cases := []struct {
		name, method, path, ctype, token, body string
		status, code                           int
	}{
		{"no token", "POST", topic, avroType, "", produceBody(metricSchema, 0, good), 401, CodeUnauthorized},
		{"unknown token", "POST", topic, avroType, "nope", produceBody(metricSchema, 0, good), 401, CodeUnauthorized},
		{"topic outside the token's prefixes", "POST", "/topics/lsst.sal.ATDome.position", avroType, "dm-token", produceBody(metricSchema, 0, good), 403, CodeForbidden},
		{"prefix is a whole name part", "POST", "/topics/lsst.dmx.a", avroType, "dm-token", produceBody(metricSchema, 0, good), 403, CodeForbidden},
		{"missing topic", "POST", "/topics/lsst.dm.nothere", avroType, "dm-token", produceBody(metricSchema, 0, good), 404, CodeTopicNotFound},
		{"no value schema", "POST", topic, avroType, "dm-token", produceBody("", 0, good), 422, CodeValueSchemaMissing},
		{"keys without key schema", "POST", topic, avroType, "dm-token", `{"value_schema_id": 1, "records": [{"key": 1, "value": {}}]}`, 422, CodeKeySchemaMissing},
		{"value not of the schema", "POST", topic, avroType, "dm-token", produceBody(metricSchema, 0, `{"timestamp": "soon"}`), 422, CodeJSONAvroConversion},
		{"invalid schema", "POST", topic, avroType, "dm-token", produceBody(`{"type": "record"}`, 0, good), 422, CodeInvalidSchema},
		{"unknown schema id", "POST", topic, avroType, "dm-token", produceBody("", 9, good), 422, CodeInvalidSchema},
		{"unsupported media type", "POST", topic, "text/plain", "dm-token", produceBody(metricSchema, 0, good), 415, CodeUnsupportedMedia},
		{"partition out of range", "POST", topic + "/partitions/7", "application/vnd.kafka.json.v2+json", "dm-token", `{"records": [{"value": 1}]}`, 404, CodePartitionNotFound},
		{"malformed body", "POST", topic, avroType, "dm-token", `{"records": [`, 400, CodeBadRequest},
		{"unknown cluster", "GET", "/v3/clusters/other", "", "dm-token", "", 404, CodeClusterNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out, raw := b.call(t, c.method, c.path, c.ctype, c.token, c.body)
			if status != c.status || out["error_code"] != float64(c.code) || out["message"] == "" {
				t.Fatalf("status %d, body %s; want status %d, error_code %d", status, raw, c.status, c.code)
			}
		})
	}
	if n := b.proxy.Stats.Records.Load(); n != 0 {
		t.Fatalf("%d records written by refused requests", n)
	}
}

// TestV3Topics: the v3 cluster id is Kafka's, and topics are created
// (within the token's prefixes), listed, refused when they exist, and
// deleted.
func TestV3Topics(t *testing.T) {
	b := newBed(t, map[string][]string{"dm-token": {"lsst.dm"}})
	status, out, raw := b.call(t, "GET", "/v3/clusters", "", "dm-token", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	id := out["data"].([]any)[0].(map[string]any)["cluster_id"].(string)
	md, err := kadm.NewClient(mustClient(t, b)).BrokerMetadata(context.Background())
	if err != nil || md.Cluster != id {
		t.Fatalf("cluster id %q, Kafka says %q (%v)", id, md.Cluster, err)
	}
	create := `{"topic_name": "lsst.dm.newMetric", "partitions_count": 2, "configs": [{"name": "retention.ms", "value": "86400000"}]}`
	if status, out, raw = b.call(t, "POST", "/v3/clusters/"+id+"/topics", "application/json", "dm-token", create); status != 201 || out["partitions_count"] != float64(2) {
		t.Fatalf("create: status %d: %s", status, raw)
	}
	if status, out, raw = b.call(t, "POST", "/v3/clusters/"+id+"/topics", "application/json", "dm-token", create); status != 400 || out["error_code"] != float64(CodeTopicExists) {
		t.Fatalf("create again: status %d: %s", status, raw)
	}
	if status, _, raw = b.call(t, "POST", "/v3/clusters/"+id+"/topics", "application/json", "dm-token", `{"topic_name": "lsst.sal.X.y"}`); status != 403 {
		t.Fatalf("create outside prefixes: status %d: %s", status, raw)
	}
	status, _, raw = b.call(t, "GET", "/topics", "", "dm-token", "")
	if status != 200 || !strings.Contains(raw, `"lsst.dm.newMetric"`) {
		t.Fatalf("list: status %d: %s", status, raw)
	}
	if status, _, raw = b.call(t, "DELETE", "/v3/clusters/"+id+"/topics/lsst.dm.newMetric", "", "dm-token", ""); status != 204 {
		t.Fatalf("delete: status %d: %s", status, raw)
	}
}

func mustClient(t *testing.T, b *bed) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func consume(t *testing.T, b *bed, topic string, n int) []*kgo.Record {
	return kafkatest.Consume(t, b.cluster.ListenAddrs(), topic, n)
}
