package sink

import (
	"bytes"
	"strings"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol"
)

func TestToPoint(t *testing.T) {
	cases := []struct {
		name string
		rec  map[string]any
		m    Mapping
		want string // line protocol at µs precision
	}{
		{
			name: "scalars and time",
			rec:  map[string]any{"private_efdStamp": 1700000000.125, "a": float32(1.5), "n": int32(-3), "l": int64(7), "ok": true, "s": "x y"},
			want: `lsst.sal.Test.scalars a=1.5,l=7i,n=-3i,ok=true,private_efdStamp=1700000000.125,s="x y" 1700000000125000`,
		},
		{
			name: "arrays flattened, unions unwrapped, nulls dropped",
			rec:  map[string]any{"private_efdStamp": 1.5, "v": []any{float64(1), float64(2)}, "u": map[string]any{"double": 3.0}, "z": nil},
			want: `lsst.sal.Test.scalars private_efdStamp=1.5,u=3,v0=1,v1=2 1500000`,
		},
		{
			name: "tags and another timestamp field",
			rec:  map[string]any{"timestamp": 2.0, "instrument": "LATISS", "value": 0.5},
			m:    Mapping{TimestampField: "timestamp", Tags: []string{"instrument"}},
			want: `lsst.sal.Test.scalars,instrument=LATISS timestamp=2,value=0.5 2000000`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := toPoint("lsst.sal.Test.scalars", c.rec, c.m)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := lp.NewEncoder(&buf)
			enc.SetPrecision(time.Microsecond)
			enc.FailOnFieldErr(true)
			if _, err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(buf.String())
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	if _, err := toPoint("m", map[string]any{"x": 1.0}, Mapping{}); err == nil || !strings.Contains(err.Error(), "private_efdStamp") {
		t.Errorf("missing timestamp: err %v, want one naming private_efdStamp", err)
	}
}

func TestFrameID(t *testing.T) {
	cases := []struct {
		in   []byte
		id   int
		body string
		err  bool
	}{
		{[]byte{0, 0, 0, 1, 2, 'x'}, 258, "x", false},
		{[]byte{1, 0, 0, 0, 1}, 0, "", true},
		{[]byte{0, 0}, 0, "", true},
	}
	for _, c := range cases {
		id, body, err := frameID(c.in)
		if (err != nil) != c.err || id != c.id || string(body) != c.body {
			t.Errorf("frameID(%v) = %d, %q, %v", c.in, id, body, err)
		}
	}
}
