package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sal"
)

// EFDConfig says what to capture from an EFD.
type EFDConfig struct {
	// Client reaches the InfluxDB (its URL and credentials).
	Client *influxd.Client
	// Database is the database (a 2.x bucket with its DBRP mapping).
	Database string
	// Measurements is a Java regex that must match a measurement's whole
	// name (lsst\.sal\.ATDome\..*).
	Measurements string
	// From and To bound the points by their time: [From, To).
	From, To time.Time
	// Interfaces give each measurement's topic (lsst.sal.<CSC>.<topic>),
	// its fields and schema.
	Interfaces *sal.Interfaces
	// FieldSeparator is the sink's (Telegraf's avro_field_separator)
	// between an array's name and index: "" for name0..nameN-1.
	FieldSeparator string
	// PageSize is how many points one query asks for; 0 means 10000.
	PageSize int
}

// EFD captures the points of cfg's measurements in its time range and
// writes them to w as a recording, in time order, each mapped back onto
// its topic's fields by inverting the sink's mapping: a field under its
// own name, an array's items under name0..nameN-1, the point's time as t.
// The recording carries the topic's schema from cfg.Interfaces.
//
// What the sink does not keep cannot come back: NaN and ±Inf are never
// written, so a float field missing from a point is recorded as NaN (an
// infinity comes back as NaN); Kafka's record timestamp, key, partition
// and offset are not in the EFD (t is the point's time, which is
// private_efdStamp, the UTC of the writer's private_sndStamp, at the
// sink's precision); two samples of a topic with the same time are one
// point (the later one); and a sink that writes some fields as tags, or
// only some fields (avro_tags, avro_fields), leaves points this cannot
// map. A point with a column the topic does not have, a non-float field
// missing, or a value of another type than its field's is an error naming
// the measurement, the point's time and the field: the EFD was written
// from other interfaces than the ones given. Errors in cfg are
// *exit.BadInput.
func EFD(ctx context.Context, cfg EFDConfig, w io.Writer) (Stats, error) {
	switch {
	case cfg.Client == nil || cfg.Client.URL == "":
		return Stats{}, &exit.BadInput{Err: errors.New("no InfluxDB URL given")}
	case cfg.Database == "":
		return Stats{}, &exit.BadInput{Err: errors.New("no database given")}
	case cfg.Measurements == "":
		return Stats{}, &exit.BadInput{Err: errors.New("no measurement pattern given")}
	case cfg.From.IsZero() || cfg.To.IsZero() || !cfg.From.Before(cfg.To):
		return Stats{}, &exit.BadInput{Err: errors.New("give a time range, from before to")}
	case cfg.Interfaces == nil:
		return Stats{}, &exit.BadInput{Err: errors.New("no interfaces given")}
	}
	pattern, err := replication.CompileTopicPattern(cfg.Measurements)
	if err != nil {
		return Stats{}, &exit.BadInput{Err: fmt.Errorf("measurement pattern: %w", err)}
	}
	where := fmt.Sprintf("influxdb %s database %s", cfg.Client.URL, cfg.Database)
	series, err := cfg.Client.Query(ctx, cfg.Database, "SHOW MEASUREMENTS")
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", where, err)
	}
	var all, chosen []string
	for _, s := range series {
		for _, v := range s.Values {
			if len(v) > 0 {
				name := fmt.Sprint(v[0])
				all = append(all, name)
				if pattern.MatchString(name) {
					chosen = append(chosen, name)
				}
			}
		}
	}
	if len(chosen) == 0 {
		return Stats{}, &exit.BadInput{Err: fmt.Errorf("%s: no measurement matches %q (measurements there: %s)", where, cfg.Measurements, listSome(all))}
	}
	slices.Sort(chosen)
	var samples []captured
	for _, m := range chosen {
		t, err := topicOf(cfg.Interfaces, m)
		if err != nil {
			return Stats{}, &exit.BadInput{Err: fmt.Errorf("%s: measurement %s: %w", where, m, err)}
		}
		got, err := readMeasurement(ctx, cfg, m, t)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", where, err)
		}
		samples = append(samples, got...)
	}
	if len(samples) == 0 {
		return Stats{}, fmt.Errorf("%s: no point of the %d measurements matching %q from %s to %s", where, len(chosen), cfg.Measurements,
			cfg.From.UTC().Format(time.RFC3339Nano), cfg.To.UTC().Format(time.RFC3339Nano))
	}
	slices.SortStableFunc(samples, func(a, b captured) int { return a.ts.Compare(b.ts) })
	from, to := cfg.From.UTC(), cfg.To.UTC()
	return write(w, samples, mocksal.RecordingHeader{Source: fmt.Sprintf("%s, measurements %s", where, cfg.Measurements), From: &from, To: &to})
}

// topicOf is the topic a SAL measurement (lsst.sal.<CSC>.<topic>) holds.
func topicOf(ifaces *sal.Interfaces, measurement string) (*sal.Topic, error) {
	rest, ok := strings.CutPrefix(measurement, "lsst.sal.")
	csc, name, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return nil, errors.New("not a SAL topic's measurement (lsst.sal.<CSC>.<topic>)")
	}
	t := ifaces.Topic(csc, name)
	if t == nil {
		return nil, fmt.Errorf("%s.%s is not in the loaded interfaces", csc, name)
	}
	return t, nil
}

// column is where a measurement's column goes in a sample: a field, and
// an item of an array field (-1 for a scalar); flat numbers every value.
type column struct{ field, item, flat int }

// readMeasurement reads the points of measurement m in the range, page by
// page, as samples of t.
func readMeasurement(ctx context.Context, cfg EFDConfig, m string, t *sal.Topic) ([]captured, error) {
	cols := map[string]column{}
	flat := 0
	for i, f := range t.Fields {
		if !f.IsArray() {
			cols[f.Name] = column{i, -1, flat}
			flat++
			continue
		}
		for j := range f.Count {
			cols[f.Name+cfg.FieldSeparator+strconv.Itoa(j)] = column{i, j, flat}
			flat++
		}
	}
	page := cfg.PageSize
	if page <= 0 {
		page = 10000
	}
	schema := &schemaInfo{text: t.Schema(), csc: t.CSC, topic: t.Name, fullName: t.FullName()}
	var out []captured
	for offset := 0; ; offset += page {
		q := fmt.Sprintf(`SELECT * FROM %q WHERE time >= '%s' AND time < '%s' ORDER BY time ASC LIMIT %d OFFSET %d`,
			m, cfg.From.UTC().Format(time.RFC3339Nano), cfg.To.UTC().Format(time.RFC3339Nano), page, offset)
		series, err := cfg.Client.Query(ctx, cfg.Database, q)
		if err != nil {
			return nil, err
		}
		rows := 0
		for _, s := range series {
			for _, row := range s.Values {
				rows++
				c, err := pointSample(t, cols, flat, cfg.FieldSeparator, s.Columns, row)
				if err != nil {
					return nil, fmt.Errorf("measurement %s, point at %s: %w", m, pointTime(row).Format(time.RFC3339Nano), err)
				}
				c.schema, c.subject = schema, t.Subject("")
				out = append(out, c)
			}
		}
		if rows < page {
			return out, nil
		}
	}
}

// pointTime is a row's time (column 0, epoch µs as the client asks).
func pointTime(row []any) time.Time {
	if len(row) > 0 {
		if n, ok := row[0].(json.Number); ok {
			if us, err := n.Int64(); err == nil {
				return time.UnixMicro(us).UTC()
			}
		}
	}
	return time.Time{}
}

// pointSample maps one point onto a sample of t, as Avro binary.
func pointSample(t *sal.Topic, cols map[string]column, nvalues int, sep string, names []string, row []any) (captured, error) {
	if len(names) == 0 || names[0] != "time" {
		return captured{}, errors.New("the result has no time column")
	}
	s := sal.NewSample(t)
	set := make([]bool, nvalues)
	for k, name := range names[1:] {
		v := row[k+1]
		if v == nil {
			continue // not in this point
		}
		c, ok := cols[name]
		if !ok {
			return captured{}, fmt.Errorf("column %q is not a field of %s.%s in the loaded interfaces (the EFD was written from other interfaces, or a sink wrote it as a tag)", name, t.CSC, t.Name)
		}
		if err := setValue(s, &t.Fields[c.field], c.item, v); err != nil {
			return captured{}, fmt.Errorf("field %s: %w", name, err)
		}
		set[c.flat] = true
	}
	flat := 0
	for i := range t.Fields {
		f := &t.Fields[i]
		for j := range f.Count {
			if !set[flat] {
				item := -1
				name := f.Name
				if f.IsArray() {
					item, name = j, f.Name+sep+strconv.Itoa(j)
				}
				// The sink drops non-finite floats; nothing else is
				// left out of a point.
				switch f.AvroType {
				case "float":
					setItem(s, i, item, float32(math.NaN()))
				case "double":
					setItem(s, i, item, math.NaN())
				default:
					return captured{}, fmt.Errorf("field %s (%s) is missing: the sink writes every field but NaN and ±Inf floats", name, f.AvroType)
				}
			}
			flat++
		}
	}
	body, err := t.AppendAvro(nil, s)
	if err != nil {
		return captured{}, err
	}
	return captured{ts: pointTime(row), body: body}, nil
}

// setValue sets a field (or one item of an array field) of s from a
// JSON value InfluxDB returned, as its Avro type wants it.
func setValue(s *sal.Sample, f *sal.Field, item int, v any) error {
	i := s.Topic.FieldIndex(f.Name)
	var x any
	switch f.AvroType {
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v is not a boolean", v)
		}
		x = b
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a string", v)
		}
		x = str
	case "int", "long":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		l, err := n.Int64()
		if err != nil {
			return fmt.Errorf("%s is not an integer", n)
		}
		if f.AvroType == "long" {
			x = l
		} else if l < math.MinInt32 || l > math.MaxInt32 {
			return fmt.Errorf("%d does not fit an int", l)
		} else {
			x = int32(l)
		}
	case "float", "double":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		d, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s is not a number", n)
		}
		if f.AvroType == "double" {
			x = d
		} else if float64(float32(d)) != d {
			// The sink writes a float as the double of the same value.
			return fmt.Errorf("%s is not a float's value", n)
		} else {
			x = float32(d)
		}
	default:
		return fmt.Errorf("no SAL field has Avro type %s", f.AvroType)
	}
	setItem(s, i, item, x)
	return nil
}

// setItem sets field i of s, or item of it for an array.
func setItem(s *sal.Sample, i, item int, x any) {
	if item < 0 {
		s.Values[i] = x
		return
	}
	switch a := s.Values[i].(type) {
	case []bool:
		a[item] = x.(bool)
	case []int32:
		a[item] = x.(int32)
	case []int64:
		a[item] = x.(int64)
	case []float32:
		a[item] = x.(float32)
	case []float64:
		a[item] = x.(float64)
	}
}
