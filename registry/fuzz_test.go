package registry

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

// FuzzBodies feeds request bodies to the registry's register and lookup
// handlers, over a real Kafka protocol cluster holding its storage topic:
// every body gets an HTTP answer, never a panic (net/http would recover
// one and hide it, so the handlers are called directly).
func FuzzBodies(f *testing.F) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Brokers: c.ListenAddrs(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.routes()
	f.Add(uint8(0), []byte(`{"schema":"{\"type\":\"record\",\"name\":\"position\",\"namespace\":\"lsst.sal.ATDome\",\"fields\":[{\"name\":\"x\",\"type\":\"double\"}]}"}`))
	f.Add(uint8(0), []byte(`{"schema":"\"string\"","schemaType":"AVRO","references":[{"name":"a","subject":"b","version":1}]}`))
	f.Add(uint8(1), []byte(`{"schema":"{\"type\":\"record\",\"name\":\"position\",\"namespace\":\"lsst.sal.ATDome\",\"fields\":[{\"name\":\"x\",\"type\":\"double\"}]}"}`))
	f.Add(uint8(2), []byte(`{"compatibility":"BACKWARD"}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fuzzx.Within(5*time.Second, func() {
			method, path := http.MethodPost, "/subjects/fuzz-value/versions"
			switch which % 3 {
			case 1:
				path = "/subjects/fuzz-value"
			case 2:
				method, path = http.MethodPut, "/config/fuzz-value"
			}
			req := httptest.NewRequest(method, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == 0 {
				t.Fatal("no status")
			}
		})
	})
}
