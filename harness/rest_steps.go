package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
)

// parseTags reads "k=v,k=v".
func parseTags(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("tags %q: want k=v,k=v", s)
		}
		out[k] = v
	}
	return out, nil
}

func (st *Steps) postMetrics(ctx context.Context, n int, topic, tags, proxy, token, rate string) error {
	tg, err := parseTags(tags)
	if err != nil {
		return err
	}
	hz, _ := strconv.ParseFloat(rate, 64)
	url, err := st.Env.RestURL(proxy)
	if err != nil {
		return err
	}
	c := &RestClient{URL: url, Token: token}
	if err := c.CreateTopic(ctx, topic); err != nil {
		return err
	}
	posted, err := c.PostMetrics(ctx, topic, tg, n, hz)
	s := state(ctx)
	if s.posted == nil {
		s.posted = map[string][]Metric{}
	}
	s.posted[topic] = append(s.posted[topic], posted...)
	if err != nil {
		return fmt.Errorf("posted %d of %d: %w", len(posted), n, err)
	}
	return nil
}

func (st *Steps) metricsDelivered(ctx context.Context, topic, db, site, within string) error {
	posted := state(ctx).posted[topic]
	if len(posted) == 0 {
		return fmt.Errorf("no metric was posted to %s in this scenario", topic)
	}
	se := st.Env.Sites[site]
	if se == nil || se.InfluxURL == "" {
		return fmt.Errorf("site %q has no InfluxDB", site)
	}
	ic := se.Influx()
	dbName := st.Env.Database(site, db)
	err := wait.ForCondition(fmt.Sprintf("the %d metrics posted to %s in %s at %s", len(posted), topic, db, site), func(ctx context.Context) error {
		points, err := ic.Points(ctx, dbName, topic)
		if err != nil {
			return err
		}
		if problems := checkMetrics(posted, points); len(problems) > 0 {
			return errors.New(strings.Join(problems, "; "))
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
	if err != nil {
		return err
	}
	// The tags must be InfluxDB tags, not fields.
	tagKeys, err := ic.TagKeys(ctx, dbName, topic)
	if err != nil {
		return err
	}
	for k := range posted[0].Tags {
		if !slices.Contains(tagKeys, k) {
			return fmt.Errorf("%s: %q is not a tag in %s (tags: %v): the sink rule should list it in tags", topic, k, db, tagKeys)
		}
	}
	return nil
}

// checkMetrics compares posted metrics with the points read back: one
// point per metric at its timestamp (µs), with its value and tags.
func checkMetrics(posted []Metric, points []influxd.Point) []string {
	byTime := map[int64]map[string]any{}
	for _, p := range points {
		t, err := p["time"].(json.Number).Int64()
		if err == nil {
			byTime[t] = p
		}
	}
	var missing, wrong []string
	for _, m := range posted {
		us := int64(math.Floor(m.Timestamp*1e6 + 0.5))
		p, ok := byTime[us]
		if !ok {
			missing = append(missing, strconv.FormatInt(us, 10))
			continue
		}
		v, _ := p["value"].(json.Number).Float64()
		if v != m.Value {
			wrong = append(wrong, fmt.Sprintf("at %d value %v, posted %v", us, v, m.Value))
		}
		for k, want := range m.Tags {
			if p[k] != want {
				wrong = append(wrong, fmt.Sprintf("at %d %s=%v, posted %s", us, k, p[k], want))
			}
		}
	}
	var out []string
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("%d missing (times µs: %s)", len(missing), strings.Join(first(missing, 5), ", ")))
	}
	if len(wrong) > 0 {
		out = append(out, fmt.Sprintf("%d differ: %s", len(wrong), strings.Join(first(wrong, 5), "; ")))
	}
	if len(points) > len(posted) && len(out) == 0 {
		out = append(out, fmt.Sprintf("%d points for %d metrics", len(points), len(posted)))
	}
	return out
}

func first(xs []string, n int) []string { return xs[:min(n, len(xs))] }

func (st *Steps) restRefuses(ctx context.Context, proxy, topic, token, status string) error {
	url, err := st.Env.RestURL(proxy)
	if err != nil {
		return err
	}
	want, _ := strconv.Atoi(status)
	c := &RestClient{URL: url, Token: token}
	schema, err := metricSchema(topic, nil)
	if err != nil {
		schema = `{"type": "record", "name": "m", "fields": [{"name": "timestamp", "type": "double"}, {"name": "value", "type": "double"}]}`
	}
	body := map[string]any{"value_schema": schema, "records": []any{map[string]any{"value": map[string]any{"timestamp": float64(time.Now().UnixMicro()) / 1e6, "value": 1.0}}}}
	got, data, err := c.call(ctx, "POST", "/topics/"+topic, "application/vnd.kafka.avro.v2+json", body)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("REST proxy %s answered a post to %s with %d (%s), want %d", proxy, topic, got, data, want)
	}
	var e struct {
		Code int `json:"error_code"`
	}
	if json.Unmarshal(data, &e) != nil || e.Code/100 != want {
		return fmt.Errorf("REST proxy %s: answer %s has no error_code of status %d", proxy, data, want)
	}
	return nil
}
