package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// UnexpectedPoints returns, for database db at site, up to max points that
// no writer of the stand wrote — a measurement, private_origin and
// private_seqNum that no ledger has, or a point without them — and how
// many there are in all. Points of the stand's background traffic (its
// own origins) and of measurements named in extra (non-SAL data a
// scenario posted) are expected.
func (e *Env) UnexpectedPoints(ctx context.Context, site, db string, extra []string, max int) ([]string, int, error) {
	se := e.Sites[site]
	if se == nil || se.InfluxURL == "" {
		return nil, 0, fmt.Errorf("site %q has no InfluxDB", site)
	}
	if spec := e.Stand.Sites[site].InfluxDB; !slices.Contains(spec.Names(), db) {
		return nil, 0, fmt.Errorf("site %q has no database %q (it has %s)", site, db, strings.Join(spec.Names(), ", "))
	}
	// What every writer of the stand wrote, under each measurement a sink
	// of the stand may give it.
	var measurements []string
	for _, k := range e.Stand.Sinks {
		for _, r := range k.rules {
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
	background := func(origin int32) bool {
		return origin >= backgroundOrigin && origin < backgroundOrigin+int32(len(e.Stand.Traffic))
	}
	series, err := se.Influx().Query(ctx, e.Database(site, db), `SELECT "private_origin","private_seqNum" FROM /.*/`)
	if err != nil {
		return nil, 0, err
	}
	var out []string
	n := 0
	for _, s := range series {
		if slices.Contains(extra, s.Name) {
			continue
		}
		for _, row := range s.Values {
			var origin, seq float64
			ok := len(row) >= 3
			if ok {
				var ok1, ok2 bool
				origin, ok1 = num(row[1])
				seq, ok2 = num(row[2])
				ok = ok1 && ok2
			}
			if ok && (background(int32(origin)) || known[writtenKey{s.Name, int32(origin), int32(seq)}]) {
				continue
			}
			n++
			if len(out) < max {
				if ok {
					out = append(out, fmt.Sprintf("%s private_origin %d private_seqNum %d at %v", s.Name, int64(origin), int64(seq), row[0]))
				} else {
					out = append(out, fmt.Sprintf("%s at %v without private_origin and private_seqNum", s.Name, row[0]))
				}
			}
		}
	}
	return out, n, nil
}
