package sink

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// errNotFramed marks a value that is not in the Confluent wire format.
var errNotFramed = errors.New("not in the Confluent wire format (magic byte 0, schema id)")

// schema is a registry schema compiled for decoding.
type schema struct {
	codec       *goavro.Codec
	measurement string // namespace.name
}

// schemas fetches schemas by id from the registry and caches them.
type schemas struct {
	reg *sr.Client
	mu  sync.Mutex
	by  map[int]*schema
}

func (s *schemas) get(ctx context.Context, id int) (*schema, error) {
	s.mu.Lock()
	sc, ok := s.by[id]
	s.mu.Unlock()
	if ok {
		return sc, nil
	}
	got, err := s.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	codec, err := goavro.NewCodec(got.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema id %d does not parse: %w", id, err)
	}
	var head struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal([]byte(got.Schema), &head); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	sc = &schema{codec: codec, measurement: head.Name}
	if head.Namespace != "" {
		sc.measurement = head.Namespace + "." + head.Name
	}
	s.mu.Lock()
	s.by[id] = sc
	s.mu.Unlock()
	return sc, nil
}

// frameID splits a Confluent-framed value into schema id and Avro body.
func frameID(v []byte) (int, []byte, error) {
	if len(v) < 5 || v[0] != 0 {
		return 0, nil, errNotFramed
	}
	return int(binary.BigEndian.Uint32(v[1:5])), v[5:], nil
}

// Mapping says how a decoded record becomes a point.
type Mapping struct {
	// TimestampField holds float seconds since the Unix epoch; "" means
	// private_efdStamp.
	TimestampField string
	// Tags lists fields written as tags instead of fields.
	Tags []string
}

// toPoint maps a decoded Avro record to an InfluxDB point.
func toPoint(measurement string, rec map[string]any, m Mapping) (*write.Point, error) {
	tsField := m.TimestampField
	if tsField == "" {
		tsField = "private_efdStamp"
	}
	ts, ok := asFloat(rec[tsField])
	if !ok {
		return nil, fmt.Errorf("timestamp field %q missing or not a number", tsField)
	}
	p := write.NewPointWithMeasurement(measurement).SetTime(secondsToTime(ts))
	for _, tag := range m.Tags {
		if v, ok := rec[tag]; ok && v != nil {
			p.AddTag(tag, fmt.Sprint(unwrapUnion(v)))
		}
	}
	for name, v := range rec {
		if isTag(m.Tags, name) {
			continue
		}
		addField(p, name, v)
	}
	p.SortFields()
	return p, nil
}

func isTag(tags []string, name string) bool {
	for _, t := range tags {
		if t == name {
			return true
		}
	}
	return false
}

// addField adds one Avro value: scalars as they are, arrays flattened to
// name0..nameN-1, unions unwrapped, nulls dropped.
func addField(p *write.Point, name string, v any) {
	v = unwrapUnion(v)
	switch x := v.(type) {
	case nil:
	case []any:
		for i, e := range x {
			addField(p, name+strconv.Itoa(i), e)
		}
	case map[string]any: // nested record: flatten as name_field
		for k, e := range x {
			addField(p, name+"_"+k, e)
		}
	case float32:
		if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			p.AddField(name, float64(x))
		}
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			p.AddField(name, x)
		}
	case int32:
		p.AddField(name, int64(x))
	case []byte:
		p.AddField(name, string(x))
	default:
		p.AddField(name, x)
	}
}

// unwrapUnion turns goavro's {"type": value} union form into the value.
func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, inner := range m {
			switch k {
			case "boolean", "int", "long", "float", "double", "string", "bytes", "array":
				return inner
			}
		}
	}
	return v
}

func asFloat(v any) (float64, bool) {
	switch x := unwrapUnion(v).(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// secondsToTime converts float seconds to a time rounded to the
// microsecond, the EFD's precision.
func secondsToTime(s float64) time.Time {
	us := math.Round(s * 1e6)
	return time.UnixMicro(int64(us))
}
