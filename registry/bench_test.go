package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/sr"
)

// BenchmarkRegistry measures the two calls every producer and sink make
// — GET /schemas/ids/{id} and registering a schema that exists — with 50
// concurrent clients on real sockets, and reports req/s and the p50/p99
// latency.
func BenchmarkRegistry(b *testing.B) {
	c := startCluster(b)
	s := startRegistry(b, Config{Brokers: c.ListenAddrs()})
	cl, _ := sr.NewClient(sr.URLs(s.URL()))
	ctx := context.Background()
	var ids []int
	for i := range 100 {
		schema := fmt.Sprintf(`{"type":"record","name":"t%d","fields":[{"name":"a","type":"double","default":0.0}]}`, i)
		id, err := cl.RegisterSchema(ctx, fmt.Sprintf("lsst.sal.X.t%d-value", i), sr.Schema{Schema: schema}, -1, -1)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	existing := body(`{"type":"record","name":"t7","fields":[{"name":"a","type":"double","default":0.0}]}`)
	cases := []struct {
		name string
		req  func(i int) (*http.Request, error)
	}{
		{"get-by-id", func(i int) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, fmt.Sprintf("%s/schemas/ids/%d", s.URL(), ids[i%len(ids)]), nil)
		}},
		{"register-existing", func(int) (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, s.URL()+"/subjects/lsst.sal.X.t7-value/versions", bytes.NewReader([]byte(existing)))
			if err == nil {
				r.Header.Set("Content-Type", contentType)
			}
			return r, err
		}},
	}
	const clients = 50
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
			var mu sync.Mutex
			const perClient = 400
			for b.Loop() {
				start := time.Now()
				var wg sync.WaitGroup
				for w := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range perClient {
							req, _ := bc.req(w*perClient + i)
							t0 := time.Now()
							resp, err := hc.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 200 {
								b.Errorf("status %d", resp.StatusCode)
								return
							}
							mu.Lock()
							h.RecordValue(time.Since(t0).Microseconds())
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(clients*perClient)/time.Since(start).Seconds(), "req/s")
			}
			b.ReportMetric(float64(h.ValueAtQuantile(50))/1000, "p50-ms")
			b.ReportMetric(float64(h.ValueAtQuantile(99))/1000, "p99-ms")
		})
	}
}
