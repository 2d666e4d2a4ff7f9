package sink

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// Rule says where the records of matching topics go and how they become
// points. Its options are Telegraf's avro parser's (avro_measurement,
// avro_timestamp, avro_timestamp_format, avro_tags, avro_fields,
// avro_field_separator), so a rule reads like the EFD's Telegraf config.
type Rule struct {
	// Topics are regexes matching whole topic names.
	Topics []string
	// Database is the InfluxDB 1.x database or the 2.x bucket.
	Database string
	// RetentionPolicy is a 1.x retention policy; "" means the default.
	RetentionPolicy string
	// Measurement names every point; "" means the schema's
	// "<namespace>.<name>" (avro_measurement).
	Measurement string
	// Timestamp is the field holding the time (avro_timestamp); ""
	// means private_efdStamp.
	Timestamp string
	// TimestampFormat is unix (seconds, fractions allowed), unix_ms,
	// unix_us or unix_ns (avro_timestamp_format); "" means unix.
	TimestampFormat string
	// Precision is what the time is rounded to (as Telegraf rounds to an
	// input's precision), and the precision it is
	// written at; 0 means 1 ns, which is what the EFD's Telegraf writes
	// (a float timestamp's exact value, floored to the nanosecond).
	Precision time.Duration
	// Tags are fields written as tags (avro_tags).
	Tags []string
	// Fields, when set, are the only fields written (avro_fields).
	Fields []string
	// FieldSeparator joins an array's name and index (avro_field_separator);
	// "" gives name0..nameN-1.
	FieldSeparator string
	// Registry is the schema registry URL this rule's topics are decoded
	// with; "" means Config.RegistryURL (Config.Validate and LoadRules
	// check it; Rules leaves it as written, for a stand's names). Schema ids are per registry: a
	// replicated topic (summit.lsst.sal.X.y) carries the ids of its
	// source site's registry, which the target serves from a second,
	// read-only "remote" registry, while local topics carry the local
	// registry's ids. Reading one through the other's registry decodes
	// records with some other topic's schema, so a sink reading both
	// needs a rule per registry.
	Registry string
	// ReplicationSeparator is the separator of MirrorMaker 2's
	// replication policy that named this rule's replicated topics
	// (replication.policy.separator); "" means ".". The sink strips
	// leading <alias><sep> with it to find the name the topic implies
	// for its schema (see SchemaBelongs).
	ReplicationSeparator string

	schemas  *schemas // the cache of this rule's registry (New sets it)
	re       []*regexp.Regexp
	tags     map[string]bool
	fields   map[string]bool
	toTime   func(v any) (time.Time, bool)
	destName string
}

// DefaultRules are the EFD's: SAL topics (and their replicas) into "efd"
// with private_efdStamp, everything under lsst.dm into "dm" with timestamp.
func DefaultRules() []Rule {
	return []Rule{
		{Topics: []string{`(?:.*\.)?lsst\.sal\..*`}, Database: "efd"},
		{Topics: []string{`(?:.*\.)?lsst\.dm\..*`}, Database: "dm", Timestamp: "timestamp"},
	}
}

// compile checks a rule and fills its defaults; i numbers it in errors.
func (r *Rule) compile(i int) error {
	what := fmt.Sprintf("rule %d", i+1)
	if len(r.Topics) == 0 {
		return fmt.Errorf("%s: no topics", what)
	}
	if r.Database == "" {
		return fmt.Errorf("%s: no database", what)
	}
	r.re = nil
	for _, t := range r.Topics {
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(t) + ")$")
		if err != nil {
			return fmt.Errorf("%s: topic pattern %q: %w", what, t, err)
		}
		r.re = append(r.re, re)
	}
	if r.Timestamp == "" {
		r.Timestamp = "private_efdStamp"
	}
	if r.Precision <= 0 {
		r.Precision = time.Nanosecond
	}
	scale := map[string]float64{"": 1e9, "unix": 1e9, "unix_ms": 1e6, "unix_us": 1e3, "unix_ns": 1}
	ns, ok := scale[r.TimestampFormat]
	if !ok {
		return fmt.Errorf("%s: timestamp format %q: want unix, unix_ms, unix_us or unix_ns", what, r.TimestampFormat)
	}
	prec := r.Precision
	r.toTime = func(v any) (time.Time, bool) {
		// Integers are exact: 1.7e18 ns is beyond float64's integers.
		switch n := unwrapUnion(v).(type) {
		case int64:
			return time.Unix(0, 0).Add((time.Duration(n) * time.Duration(ns)).Round(prec)), true
		case int32:
			return time.Unix(0, 0).Add((time.Duration(n) * time.Duration(ns)).Round(prec)), true
		}
		f, ok := asFloat(v)
		if !ok {
			if s, isStr := unwrapUnion(v).(string); isStr {
				f, ok = parseFloat(s)
			}
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, false
		}
		return unitsToTime(f, int64(ns), prec), true
	}
	if r.ReplicationSeparator == "" {
		r.ReplicationSeparator = "."
	}
	r.tags = set(r.Tags)
	r.fields = set(r.Fields)
	r.destName = r.Database
	if r.RetentionPolicy != "" {
		r.destName += "/" + r.RetentionPolicy
	}
	return nil
}

// checkRegistry checks that the rule's registry, when it has one, is an
// http(s) URL, and drops its trailing "/"; i numbers it in errors. It is
// not part of compile: a stand's rules name registries ("local", a
// source alias) that the stand turns into URLs before the sink starts.
func (r *Rule) checkRegistry(i int) error {
	if r.Registry == "" {
		return nil
	}
	if err := httpURL(r.Registry); err != nil {
		return fmt.Errorf("rule %d: registry %q: %w", i+1, r.Registry, err)
	}
	r.Registry = strings.TrimRight(r.Registry, "/")
	return nil
}

// httpURL checks that s is an http(s) URL with a host.
func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want http://host:port")
	}
	return nil
}

// SecondsToTime is a time in float seconds since the Unix epoch,
// converted as Telegraf's avro parser does (avro_timestamp_format =
// "unix"): the float's shortest decimal form, taken exactly and floored to
// the nanosecond; then rounded to prec, as Telegraf's accumulator rounds
// every metric's time to its input's precision. The EFD's points and ours
// have the same times (checked against Telegraf in harness/kafkaproc and
// in conformance/features/sasquatch-telegraf.feature).
func SecondsToTime(f float64, prec time.Duration) time.Time {
	return unitsToTime(f, int64(time.Second), prec)
}

// unitsToTime converts f units of nsPerUnit nanoseconds; see SecondsToTime.
func unitsToTime(f float64, nsPerUnit int64, prec time.Duration) time.Time {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'f', -1, 64))
	if !ok {
		return time.Time{}
	}
	r.Mul(r, new(big.Rat).SetInt64(nsPerUnit))
	n := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: the floor
	return time.Unix(0, 0).Add(time.Duration(n.Int64())).Round(prec)
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// Matches reports whether the rule takes topic (after compile).
func (r *Rule) Matches(topic string) bool {
	for _, re := range r.re {
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}

// pointStats counts what a mapping dropped.
type pointStats struct {
	nonFinite int // NaN and ±Inf values (InfluxDB cannot store them)
}

// toPoint maps a decoded Avro record to an InfluxDB point.
func (r *Rule) toPoint(measurement string, rec map[string]any, st *pointStats) (*write.Point, error) {
	if r.Measurement != "" {
		measurement = r.Measurement
	}
	ts, ok := r.toTime(rec[r.Timestamp])
	if !ok {
		return nil, fmt.Errorf("timestamp field %q missing or not a number", r.Timestamp)
	}
	var tags map[string]string
	for _, tag := range r.Tags {
		if v, ok := rec[tag]; ok && v != nil {
			if tags == nil {
				tags = map[string]string{}
			}
			tags[tag] = fmt.Sprint(unwrapUnion(v))
		}
	}
	// The fields are gathered in a map and the point made from it at
	// once: Point.AddField looks for the name among the fields added so
	// far, which for M1M3's 812 values was most of the sink's time.
	fields := make(map[string]any, len(rec))
	for name, v := range rec {
		if r.tags[name] || (r.fields != nil && !r.fields[name]) {
			continue
		}
		r.addField(fields, name, v, st)
	}
	return write.NewPoint(measurement, tags, fields, ts), nil
}

// addField adds one Avro value: scalars as they are, arrays flattened to
// name<sep>0..name<sep>N-1, unions unwrapped, nulls dropped, non-finite
// floats dropped and counted.
func (r *Rule) addField(fields map[string]any, name string, v any, st *pointStats) {
	v = unwrapUnion(v)
	switch x := v.(type) {
	case nil:
	case []any:
		for i, e := range x {
			r.addField(fields, name+r.FieldSeparator+strconv.Itoa(i), e, st)
		}
	case map[string]any: // nested record: flatten as name_field
		for k, e := range x {
			r.addField(fields, name+"_"+k, e, st)
		}
	case float32:
		r.addFloat(fields, name, float64(x), st)
	case float64:
		r.addFloat(fields, name, x, st)
	case int32:
		fields[name] = int64(x)
	case []byte:
		fields[name] = string(x)
	default:
		fields[name] = x
	}
}

func (r *Rule) addFloat(fields map[string]any, name string, f float64, st *pointStats) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		st.nonFinite++
		return
	}
	fields[name] = f
}
