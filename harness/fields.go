package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sink"
)

// producerFields are set by the producer (private_rcvStamp and
// private_kafkaStamp), not by the writer: the ledger cannot know them.
var producerFields = map[string]bool{"private_rcvStamp": true, "private_kafkaStamp": true}

// compareFields checks every point of a traffic in an InfluxDB measurement
// against the ledger: the time is private_efdStamp at µs, every field of
// the topic is there under the EFD's name (arrays as name0..nameN-1) with
// the value written. It returns a description of each difference (at most
// limit) and how many points it compared.
func compareFields(ctx context.Context, c *influxd.Client, db, measurement string, tr *Traffic, prec time.Duration, limit int) ([]string, int, error) {
	series, err := c.Query(ctx, db, fmt.Sprintf(`SELECT * FROM %q WHERE "private_origin" = %d`, measurement, tr.Origin))
	if err != nil {
		return nil, 0, err
	}
	rows := map[int]map[string]any{}
	for _, s := range series {
		for _, v := range s.Values {
			row := map[string]any{}
			for i, col := range s.Columns {
				if i < len(v) {
					row[col] = v[i]
				}
			}
			if seq, ok := observe.Number(row["private_seqNum"]); ok {
				rows[int(seq)] = row
			}
		}
	}
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < limit {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	compared := 0
	for _, w := range tr.Writes() {
		row, ok := rows[int(w.SeqNum)]
		if !ok {
			add("seqNum %d: no point", w.SeqNum)
			continue
		}
		compared++
		for _, d := range pointDiffs(tr.Topic, w, row, prec) {
			add("seqNum %d: %s", w.SeqNum, d)
		}
	}
	return diffs, compared, nil
}

// pointDiffs compares one point with the sample written; its time is
// private_efdStamp at the writer's precision, read back in µs.
func pointDiffs(t *sal.Topic, w mocksal.Write, row map[string]any, prec time.Duration) []string {
	var out []string
	efd := sal.UTCFromTAI(w.SndStamp)
	if got, _ := observe.Number(row["time"]); int64(got) != sink.SecondsToTime(efd, prec).UnixMicro() {
		out = append(out, fmt.Sprintf("time %.0f µs, want private_efdStamp %s at %s", got, strconv.FormatFloat(efd, 'f', -1, 64), prec))
	}
	if len(w.Values) != len(t.Fields) {
		return append(out, "the ledger has no values")
	}
	for i, f := range t.Fields {
		if producerFields[f.Name] {
			continue
		}
		want := w.Values[i]
		if f.Name == "private_efdStamp" {
			want = efd
		}
		rv := reflect.ValueOf(want)
		if rv.Kind() == reflect.Slice {
			for j := range rv.Len() {
				name := f.Name + strconv.Itoa(j)
				if d := valueDiff(rv.Index(j).Interface(), row[name]); d != "" {
					out = append(out, name+": "+d)
				}
			}
			continue
		}
		if d := valueDiff(want, row[f.Name]); d != "" {
			out = append(out, f.Name+": "+d)
		}
	}
	return out
}

// valueDiff compares a written value with what InfluxDB returned (JSON).
// A null written (a nullable field's nil) is no field in the point.
func valueDiff(want, got any) string {
	if want == nil {
		if got != nil {
			return fmt.Sprintf("%v, want no field (null)", got)
		}
		return ""
	}
	if got == nil {
		if f, ok := want.(float32); ok && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
			return ""
		}
		if f, ok := want.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return ""
		}
		return fmt.Sprintf("missing, want %v", want)
	}
	switch w := want.(type) {
	case string:
		if g, ok := got.(string); !ok || g != w {
			return fmt.Sprintf("%v, want %q", got, w)
		}
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return fmt.Sprintf("%v, want %v", got, w)
		}
	default:
		rv := reflect.ValueOf(want)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			// Integers compare exactly: an int64 may exceed float64's.
			if n, ok := got.(json.Number); ok {
				if g, err := n.Int64(); err == nil && g == rv.Int() {
					return ""
				}
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if n, ok := got.(json.Number); ok {
				if g, err := strconv.ParseUint(n.String(), 10, 64); err == nil && g == rv.Uint() {
					return ""
				}
			}
		case reflect.Float32, reflect.Float64:
			// A float32 is stored as the float64 of the same value.
			if g, ok := observe.Number(got); ok && g == rv.Float() {
				return ""
			}
		}
		return fmt.Sprintf("%v, want %v", got, want)
	}
	return ""
}

func (st *Steps) fieldsAsWritten(ctx context.Context, csc, index, topic, db, site string) error {
	s, tr, where, err := st.target(ctx, csc, index, topic, db, site)
	if err != nil {
		return err
	}
	return st.fieldsAt(ctx, s, tr, where, db, site)
}

// fieldsAt waits for tr's delivery into database db at site, then
// compares every point with the ledger.
func (st *Steps) fieldsAt(ctx context.Context, s *scenarioState, tr *Traffic, where Target, db, site string) error {
	csc, topic := tr.Identity(), tr.Topic.Name
	if _, err := s.sc.WaitDelivered(ctx, tr, where, seconds("20")); err != nil {
		return err
	}
	se := st.Env.Sites[site]
	measurement := tr.Topic.FullName() // the sink's default: namespace.name
	diffs, n, err := compareFields(ctx, se.Influx(), st.Env.Database(site, db), measurement, tr, st.Env.precisionAt(s.sc, tr, where), 10)
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		return errors.New(csc + " " + topic + " in " + db + "@" + site + ": points differ from the ledger:\n  " + strings.Join(diffs, "\n  "))
	}
	if n == 0 {
		return fmt.Errorf("%s %s: no point compared", csc, topic)
	}
	return nil
}

// precisionAt is the precision the sink writing tr's samples into
// target's database writes at (its rule's), 1 ns when no sink of the
// stand's does.
func (e *Env) precisionAt(sc *Scenario, tr *Traffic, at Target) time.Duration {
	for _, k := range e.Stand.Sinks {
		if k.Site.Value != at.Site {
			continue
		}
		for _, r := range k.CompiledRules() {
			if r.Database != at.Name {
				continue
			}
			for _, t := range sc.Taps(tr) {
				if t.Kind == observe.KafkaTopic && t.Site == at.Site && r.Matches(t.Name) {
					return r.Precision
				}
			}
		}
	}
	return time.Nanosecond
}
