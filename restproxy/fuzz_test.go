package restproxy

import (
	"time"

	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"

	"github.com/twmb/franz-go/pkg/kfake"
)

// FuzzBodies feeds request bodies to the proxy's produce (v2) and
// create-topic (v3) handlers, over a real Kafka protocol cluster: every
// body gets an HTTP answer, never a panic (net/http would recover one and
// hide it, so the handler is called directly).
func FuzzBodies(f *testing.F) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lsst.dm.test"))
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	p, err := New(Config{Brokers: c.ListenAddrs(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	h := p.Handler()
	cluster, e := p.clusterID(context.Background())
	if e != nil {
		f.Fatal(e)
	}
	f.Add(uint8(0), []byte(`{"records":[{"value":{"x":1}}]}`))
	f.Add(uint8(0), []byte(`{"value_schema":"{\"type\":\"record\",\"name\":\"t\",\"namespace\":\"lsst.dm\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}","records":[{"value":{"x":1},"key":"k","partition":0}]}`))
	f.Add(uint8(0), []byte(`{"value_schema_id":1,"records":[{"value":null}]}`))
	f.Add(uint8(1), []byte(`{"topic_name":"lsst.dm.new","partitions_count":1,"replication_factor":1,"configs":[{"name":"cleanup.policy","value":"compact"}]}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fuzzx.Within(5*time.Second, func() {
			path, ctype := "/topics/lsst.dm.test", v2Type
			if which%2 == 1 {
				path, ctype = "/v3/clusters/"+cluster+"/topics", v3Type
			}
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == 0 {
				t.Fatal("no status")
			}
		})
	})
}
