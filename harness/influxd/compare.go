package influxd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Point is one stored point: its time and every field and tag, by column.
type Point map[string]any

// Measurements lists a database's measurements.
func (c *Client) Measurements(ctx context.Context, db string) ([]string, error) {
	series, err := c.Query(ctx, db, "SHOW MEASUREMENTS")
	if err != nil {
		return nil, err
	}
	out := firstColumn(series)
	sort.Strings(out)
	return out, nil
}

// TagKeys lists a measurement's tag keys.
func (c *Client) TagKeys(ctx context.Context, db, measurement string) ([]string, error) {
	series, err := c.Query(ctx, db, fmt.Sprintf("SHOW TAG KEYS FROM %q", measurement))
	if err != nil {
		return nil, err
	}
	return firstColumn(series), nil
}

// Points reads a measurement's points in time order.
func (c *Client) Points(ctx context.Context, db, measurement string) ([]Point, error) {
	series, err := c.Query(ctx, db, fmt.Sprintf(`SELECT * FROM %q ORDER BY time`, measurement))
	if err != nil {
		return nil, err
	}
	var out []Point
	for _, s := range series {
		for _, v := range s.Values {
			p := Point{}
			for i, col := range s.Columns {
				if i < len(v) && v[i] != nil {
					p[col] = v[i]
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Comparison is how two databases' points compare.
type Comparison struct {
	Measurements int // measurements in either
	Points       int // points compared (equal counts only)
	Values       int // values compared, time included
	// Diffs says what differs, at most a few lines; none when equal.
	Diffs []string
}

// Equal reports whether nothing differs.
func (c *Comparison) Equal() bool { return len(c.Diffs) == 0 }

// CompareDatabases compares every point of databases a and b (named
// nameA and nameB in the differences): the same measurements, the same
// number of points in each, and point by point in time order the same
// time, fields and values. Numbers compare by value.
func (c *Client) CompareDatabases(ctx context.Context, a, b, nameA, nameB string) (*Comparison, error) {
	ma, err := c.Measurements(ctx, a)
	if err != nil {
		return nil, err
	}
	mb, err := c.Measurements(ctx, b)
	if err != nil {
		return nil, err
	}
	all := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(ma), mb...))))
	cmp := &Comparison{Measurements: len(all)}
	for _, m := range all {
		pa, err := c.Points(ctx, a, m)
		if err != nil {
			return nil, err
		}
		pb, err := c.Points(ctx, b, m)
		if err != nil {
			return nil, err
		}
		if len(pa) != len(pb) {
			cmp.Diffs = append(cmp.Diffs, fmt.Sprintf("%s: %s %d points, %s %d", m, nameA, len(pa), nameB, len(pb)))
			continue
		}
		cmp.Points += len(pa)
		for i := range pa {
			cmp.Values += len(pa[i])
			if d := DiffPoint(pa[i], pb[i], nameA, nameB); d != "" {
				cmp.Diffs = append(cmp.Diffs, fmt.Sprintf("%s point %d: %s", m, i, d))
				break
			}
		}
	}
	if len(cmp.Diffs) > 8 {
		cmp.Diffs = append(cmp.Diffs[:8], fmt.Sprintf("… %d more", len(cmp.Diffs)-8))
	}
	return cmp, nil
}

// DiffPoint says how two points differ ("" when they do not), naming at
// most five columns.
func DiffPoint(a, b Point, nameA, nameB string) string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var diffs []string
	for _, k := range keys {
		if !SameValue(a[k], b[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: %s %v, %s %v", k, nameA, a[k], nameB, b[k]))
		}
	}
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("… %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

// SameValue compares two query values; numbers by value.
func SameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	na, ok1 := a.(json.Number)
	nb, ok2 := b.(json.Number)
	if ok1 && ok2 {
		fa, e1 := na.Float64()
		fb, e2 := nb.Float64()
		return e1 == nil && e2 == nil && fa == fb
	}
	return false
}
