package harness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/internal/httpserve"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/restproxy"
)

// startRestProxy starts a REST proxy at its site: in process, or the
// restproxy binary with the tokens in a file; ready once it answers.
func (e *Env) startRestProxy(ctx context.Context, r *RestProxySpec) error {
	se := e.Sites[r.Site.Value]
	via := e.reach(r.Site.Value)
	if r.Run == Binary || r.Run == Container {
		port, err := proc.FreePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args := []string{"--brokers", strings.Join(se.Brokers, ","), "--registry", via.registry(), "--listen", addr}
		if err := via.Err(); err != nil {
			return err
		}
		sec, err := e.binaryFlags(standsec.RestProxy)
		if err != nil {
			return fmt.Errorf("REST proxy %s: %w", r.Name, err)
		}
		args = append(args, sec...)
		if len(r.Tokens) > 0 {
			data, err := yaml.Marshal(map[string]any{"tokens": r.Tokens})
			if err != nil {
				return err
			}
			file := filepath.Join(e.tmp, "restproxy-"+strings.ReplaceAll(r.Name, "/", "_")+"-tokens.yaml")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				return err
			}
			args = append(args, "--tokens", file)
		}
		return e.startBinary(ctx, binaryComponent{
			name: r.Name, kind: "REST proxy", binary: "restproxy", args: args, run: r.Run,
			ready: wait.ForHTTP("http://" + addr + "/healthz").WithTimeout(30 * time.Second), adminURL: "http://" + addr,
		})
	}
	ru, rp := e.registryAuth()
	p, err := restproxy.New(restproxy.Config{
		Brokers: se.Brokers, RegistryURL: via.registry(), Tokens: r.Tokens, RegistryUsername: ru, RegistryPassword: rp,
		Logger: e.log.With("component", "REST proxy "+r.Name), KafkaOpts: via.kafka(standsec.RestProxy, kgo.MetadataMinAge(100*time.Millisecond)),
	})
	if err = cmp.Or(via.Err(), err); err != nil {
		return fmt.Errorf("REST proxy %s: %w", r.Name, err)
	}
	bound, stop, err := httpserve.Serve("127.0.0.1:0", p.Handler(), e.log)
	if err != nil {
		p.Close()
		return fmt.Errorf("REST proxy %s: %w", r.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{"records": p.Stats.Records.Load(), "requests": p.Stats.Requests.Load(), "refused": p.Stats.Refused.Load()}
	}
	err = e.startComponent(ctx, r.Name, "REST proxy", stats, nil, func(ctx context.Context, ready func()) error {
		defer p.Close()
		defer stop()
		ready()
		<-ctx.Done()
		return nil
	}, nil)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.components[r.Name].adminURL = "http://" + bound
	e.mu.Unlock()
	return nil
}

// RestURL is a running REST proxy's base URL.
func (e *Env) RestURL(name string) (string, error) {
	c := e.component(name)
	if c == nil || c.kind != "REST proxy" {
		return "", fmt.Errorf("no REST proxy named %q (have %v)", name, e.ComponentNames())
	}
	return c.adminURL, nil
}

// Metric is one analysis metric as posted: its time (the record's
// "timestamp", seconds) and value, with its tags as string fields.
type Metric struct {
	Timestamp float64
	Value     float64
	Tags      map[string]string
}

// metricSchema is the Avro schema of an analysis metric on topic
// lsst.dm.<name>: namespace lsst.dm, a timestamp, the tags as strings and
// a value, as analysis tools upload them through Sasquatch.
func metricSchema(topic string, tags []string) (string, error) {
	name, ok := strings.CutPrefix(topic, "lsst.dm.")
	if !ok || name == "" || strings.Contains(name, ".") {
		return "", fmt.Errorf("metric topic %q: want lsst.dm.<metric>", topic)
	}
	fields := []map[string]any{{"name": "timestamp", "type": "double"}}
	for _, t := range tags {
		fields = append(fields, map[string]any{"name": t, "type": "string"})
	}
	fields = append(fields, map[string]any{"name": "value", "type": "double"})
	b, err := json.Marshal(map[string]any{"type": "record", "namespace": "lsst.dm", "name": name, "fields": fields})
	return string(b), err
}

// RestClient posts to a REST proxy as an analysis tool does.
type RestClient struct {
	URL, Token string
	HTTP       *http.Client
}

// call makes one request; an answer of 300 or more is an error with the
// proxy's error code.
func (c *RestClient) call(ctx context.Context, method, path, contentType string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("REST proxy %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// CreateTopic creates a topic through the v3 API, as Sasquatch's users
// do before their first post; one that exists is fine.
func (c *RestClient) CreateTopic(ctx context.Context, topic string) error {
	status, data, err := c.call(ctx, http.MethodGet, "/v3/clusters", "", nil)
	if err != nil {
		return err
	}
	var clusters struct {
		Data []struct {
			ID string `json:"cluster_id"`
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(data, &clusters) != nil || len(clusters.Data) == 0 {
		return fmt.Errorf("REST proxy GET /v3/clusters: status %d: %s", status, data)
	}
	status, data, err = c.call(ctx, http.MethodPost, "/v3/clusters/"+clusters.Data[0].ID+"/topics", "application/json", map[string]any{"topic_name": topic})
	if err != nil {
		return err
	}
	if status != http.StatusCreated && !bytes.Contains(data, []byte(`"error_code":40002`)) {
		return fmt.Errorf("REST proxy: create topic %s: status %d: %s", topic, status, data)
	}
	// A topic Kafka has created is in its brokers' metadata a moment
	// later (KRaft: once each broker has applied the controller's
	// record): a produce before then is answered 40401, as a client of
	// Confluent's proxy sees too. The topic is waited for through the
	// proxy itself.
	return wait.ForCondition("topic "+topic+" through the REST proxy", func(ctx context.Context) error {
		status, data, err := c.call(ctx, http.MethodGet, "/topics/"+topic, "", nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("GET /topics/%s: status %d: %s", topic, status, data)
		}
		return nil
	}).WithTimeout(15 * time.Second).WaitUntilReady(ctx)
}

// PostMetrics posts n metrics to topic at rateHz (0: as fast as
// answered), one record per request, and returns what was posted.
func (c *RestClient) PostMetrics(ctx context.Context, topic string, tags map[string]string, n int, rateHz float64) ([]Metric, error) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	schema, err := metricSchema(topic, keys)
	if err != nil {
		return nil, err
	}
	var posted []Metric
	var schemaID *int
	start := time.Now()
	for i := 0; i < n || n < 0; i++ {
		if rateHz > 0 {
			next := start.Add(time.Duration(float64(i) / rateHz * float64(time.Second)))
			select {
			case <-ctx.Done():
				return posted, ctx.Err()
			case <-time.After(time.Until(next)):
			}
		}
		m := Metric{Timestamp: float64(time.Now().UnixMicro()) / 1e6, Value: rand.Float64() * 100, Tags: tags}
		value := map[string]any{"timestamp": m.Timestamp, "value": m.Value}
		for k, v := range tags {
			value[k] = v
		}
		body := map[string]any{"records": []any{map[string]any{"value": value}}}
		if schemaID != nil {
			body["value_schema_id"] = *schemaID
		} else {
			body["value_schema"] = schema
		}
		status, data, err := c.call(ctx, http.MethodPost, "/topics/"+topic, "application/vnd.kafka.avro.v2+json", body)
		if err != nil {
			return posted, err
		}
		var out struct {
			ID      *int `json:"value_schema_id"`
			Offsets []struct {
				Error *string `json:"error"`
			} `json:"offsets"`
		}
		if status != http.StatusOK || json.Unmarshal(data, &out) != nil || len(out.Offsets) != 1 || out.Offsets[0].Error != nil {
			return posted, fmt.Errorf("REST proxy: post to %s: status %d: %s", topic, status, data)
		}
		schemaID = out.ID
		posted = append(posted, m)
	}
	return posted, nil
}

// startRestTraffic posts analysis metrics to a REST proxy until the stand
// goes down.
func (e *Env) startRestTraffic(ctx context.Context, t *TrafficSpec) error {
	url, err := e.RestURL(t.Proxy)
	if err != nil {
		return err
	}
	c := &RestClient{URL: url, Token: t.Token}
	if err := c.CreateTopic(ctx, t.Topic); err != nil {
		return err
	}
	var posted atomic.Int64
	name := fmt.Sprintf("traffic rest %s", t.Topic)
	stats := func() map[string]int64 { return map[string]int64{"posted": posted.Load()} }
	return e.startComponent(ctx, name, "traffic", stats, nil, func(ctx context.Context, ready func()) error {
		ready()
		every.Run(ctx, time.Duration(float64(time.Second)/t.Rate), func(ctx context.Context) {
			if _, err := c.PostMetrics(ctx, t.Topic, t.Tags, 1, 0); err != nil {
				if ctx.Err() == nil {
					e.log.Warn("background REST traffic", "topic", t.Topic, "err", err)
				}
				return
			}
			posted.Add(1)
		})
		return nil
	}, nil)
}
