package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
)

// A sink that decodes a record with the wrong schema (a schema id read
// through a registry that does not hold it) may still produce a point: of
// another topic's measurement, with another topic's fields. Delivery
// checks look only for the points they expect, so they cannot see such a
// point; UnexpectedPoints looks at every point a database holds and names
// those that no writer of the stand wrote.

// noteTraffic remembers traffic for the stand's whole life, so that every
// point a scenario finds can be traced to the writer that wrote it.
func (e *Env) noteTraffic(tr *Traffic) {
	e.mu.Lock()
	e.written = append(e.written, tr)
	e.mu.Unlock()
}

// writtenKey identifies one sample as a point: its measurement, its
// writer's private_origin and its private_seqNum.
type writtenKey struct {
	measurement string
	origin      int32
	seq         int32
}

// UnexpectedPoints returns, for database db at site, up to limit points that
// no writer of the stand wrote — a measurement, private_origin and
// private_seqNum that no ledger has, or a point without them — and how
// many there are in all. Points of the stand's background traffic (its
// own origins) and of measurements named in extra (non-SAL data a
// scenario posted) are expected.
func (e *Env) UnexpectedPoints(ctx context.Context, site, db string, extra []string, limit int) ([]string, int, error) {
	se := e.Sites[site]
	if se == nil || se.InfluxURL == "" {
		return nil, 0, fmt.Errorf("site %q has no InfluxDB", site)
	}
	if spec := e.Stand.Sites[site].InfluxDB; !slices.Contains(spec.Names(), db) {
		return nil, 0, fmt.Errorf("site %q has no database %q (it has %s)", site, db, strings.Join(spec.Names(), ", "))
	}
	known := e.knownPoints()
	background := func(origin int32) bool {
		return origin >= backgroundOrigin && origin < backgroundOrigin+int32(len(e.Stand.Traffic))
	}
	// A point without either private field is in no row of the second
	// query: every measurement's points are counted from all its fields
	// to find those. The count comes first: a point a sink writes between
	// the two is then in the rows and not the count, never the other way,
	// which would call it a point without private fields.
	counts, err := se.Influx().Query(ctx, e.Database(site, db), `SELECT count(*) FROM /.*/`)
	if err != nil {
		return nil, 0, err
	}
	series, err := se.Influx().Query(ctx, e.Database(site, db), `SELECT "private_origin","private_seqNum" FROM /.*/`)
	if err != nil {
		return nil, 0, err
	}
	var out []string
	n := 0
	note := func(line string) {
		n++
		if len(out) < limit {
			out = append(out, line)
		}
	}
	rows := map[string]int{}
	for _, s := range series {
		rows[s.Name] = len(s.Values)
		if slices.Contains(extra, s.Name) {
			continue
		}
		for _, row := range s.Values {
			var origin, seq float64
			ok := len(row) >= 3
			if ok {
				var ok1, ok2 bool
				origin, ok1 = observe.Number(row[1])
				seq, ok2 = observe.Number(row[2])
				ok = ok1 && ok2
			}
			switch {
			case ok && (background(int32(origin)) || known[writtenKey{s.Name, int32(origin), int32(seq)}]):
			case ok:
				note(fmt.Sprintf("%s private_origin %d private_seqNum %d at %s", s.Name, int64(origin), int64(seq), pointTime(row[0])))
			default:
				note(fmt.Sprintf("%s at %s without private_origin or private_seqNum", s.Name, pointTime(row[0])))
			}
		}
	}
	for _, s := range counts {
		if slices.Contains(extra, s.Name) || len(s.Values) == 0 {
			continue
		}
		points := 0
		for _, v := range s.Values[0][1:] {
			if c, ok := observe.Number(v); ok {
				points = max(points, int(c))
			}
		}
		for range points - rows[s.Name] {
			note(fmt.Sprintf("%s: a point without private_origin and private_seqNum", s.Name))
		}
	}
	return out, n, nil
}

// pointTime words an InfluxDB time in epoch µs.
func pointTime(v any) string {
	us, ok := observe.Number(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return time.UnixMicro(int64(us)).UTC().Format(time.RFC3339Nano)
}

// knownPoints is what every writer of the stand wrote, under each
// measurement a sink of the stand may give it.
func (e *Env) knownPoints() map[writtenKey]bool {
	var measurements []string
	for _, k := range e.Stand.Sinks {
		for _, r := range k.CompiledRules() {
			if r.Measurement != "" && !slices.Contains(measurements, r.Measurement) {
				measurements = append(measurements, r.Measurement)
			}
		}
	}
	known := map[writtenKey]bool{}
	e.mu.Lock()
	written := slices.Clone(e.written)
	e.mu.Unlock()
	for _, tr := range written {
		names := append([]string{tr.Topic.FullName()}, measurements...)
		for _, w := range tr.Writes() {
			for _, m := range names {
				known[writtenKey{m, tr.Origin, w.SeqNum}] = true
			}
		}
	}
	return known
}
