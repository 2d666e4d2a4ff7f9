package capture

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sink"
)

// influx is one real influxd shared by the package's tests; each test
// uses databases of its own.
var influx *influxd.Server

func TestMain(m *testing.M) {
	bin, err := influxd.Find("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if influx, err = influxd.Start(context.Background(), bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	influx.Stop()
	os.Exit(code)
}

// points counts a measurement's points.
func points(ctx context.Context, c *influxd.Client, db, m string) (int, error) {
	series, err := c.Query(ctx, db, fmt.Sprintf(`SELECT COUNT("private_seqNum") FROM %q`, m))
	if err != nil || len(series) == 0 || len(series[0].Values) == 0 {
		return 0, err
	}
	n, _ := series[0].Values[0][1].(interface{ Int64() (int64, error) })
	if n == nil {
		return 0, nil
	}
	v, err := n.Int64()
	return int(v), err
}

// TestEFDRoundTrip: samples of scalar, array, indexed and string topics,
// with NaN in a float field and in an array item, go through the sink
// into a real influxd; the EFD capture of their time range maps every
// point back onto its topic, every value as produced (NaN as NaN), in
// time order with t from the points' times, and replays.
func TestEFDRoundTrip(t *testing.T) {
	ifaces := interfaces(t)
	s := newSite(t)
	ctx := context.Background()
	db := "efd_roundtrip"
	topics := []struct {
		topic *sal.Topic
		index int32
		n     int
	}{
		{ifaces.Topic("ATDome", "position"), 0, 8},
		{ifaces.Topic("MTHexapod", "actuators"), 1, 6},
		{ifaces.Topic("MTM1M3", "forceActuatorData"), 0, 5},
		{ifaces.Topic("Test", "scalars"), 1, 5},
		{ifaces.Topic("Test", "arrays"), 1, 5},
	}
	type key struct {
		m   string
		seq int32
	}
	want := map[key]*sal.Sample{}
	var first, last float64
	for i, tp := range topics {
		smp := samples(t, tp.topic, tp.index, tp.n, uint64(10+i))
		if i == 2 { // NaN where the sink leaves it out
			f := tp.topic.FieldIndex("primaryCylinderForce")
			smp[1].Values[f].([]float32)[3] = float32(math.NaN())
		}
		if i == 0 {
			smp[2].Values[tp.topic.FieldIndex("azimuthPosition")] = math.NaN()
		}
		s.produce(t, tp.topic.KafkaTopic(""), spaced(time.Now(), time.Millisecond, tp.n), smp)
		for _, x := range smp {
			want[key{tp.topic.FullName(), x.Get("private_seqNum").(int32)}] = x
			efd := x.Get("private_efdStamp").(float64)
			if first == 0 || efd < first {
				first = efd
			}
			last = max(last, efd)
		}
	}
	k, err := sink.New(sink.Config{Brokers: s.brokers(), RegistryURL: s.reg.URL(), InfluxURL: influx.URL(),
		Rules: []sink.Rule{{Topics: []string{`lsst\.sal\..*`}, Database: db}}, CreateDatabases: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- k.Run(sctx) }()
	defer func() { stop(); <-done }()
	c := influx.Client()
	written := wait.ForCondition("every point in the EFD", func(ctx context.Context) error {
		for _, tp := range topics {
			if n, err := points(ctx, c, db, tp.topic.FullName()); err != nil || n != tp.n {
				return fmt.Errorf("%s: %d points, want %d (%v)", tp.topic.FullName(), n, tp.n, err)
			}
		}
		return nil
	}).WithTimeout(30 * time.Second)
	if err := written.WaitUntilReady(ctx); err != nil {
		t.Fatal(err)
	}
	from := time.UnixMicro(int64(first*1e6) - 1000)
	to := time.UnixMicro(int64(last*1e6) + 1000)
	var rec strings.Builder
	st, err := EFD(ctx, EFDConfig{Client: c, Database: db, Measurements: `lsst\.sal\..*`, From: from, To: to, Interfaces: ifaces, PageSize: 4}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != len(want) || len(st.Topics) != len(topics) {
		t.Fatalf("stats %+v, want %d samples of %d topics", st, len(want), len(topics))
	}
	got := read(t, ifaces, []byte(rec.String()))
	prev := -1.0
	for _, rs := range got {
		smp := rs.Sample
		k := key{smp.Topic.FullName(), smp.Get("private_seqNum").(int32)}
		w := want[k]
		if w == nil {
			t.Fatalf("line %d: %v is not a sample produced", rs.Line, k)
		}
		if !sameValues(smp.Values, w.Values) {
			for i, f := range smp.Topic.Fields {
				if !sameValues(smp.Values[i:i+1], w.Values[i:i+1]) {
					t.Errorf("line %d: %v: %s is %v, produced %v", rs.Line, k, f.Name, smp.Values[i], w.Values[i])
				}
			}
		}
		if wantT := w.Get("private_efdStamp").(float64) - first; math.Abs(rs.T-wantT) > 2e-6 {
			t.Errorf("line %d: t %.6f, want %.6f (the point's time)", rs.Line, rs.T, wantT)
		}
		if rs.T < prev {
			t.Errorf("line %d: not in time order", rs.Line)
		}
		prev = rs.T
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("%d samples not recorded", len(want))
	}
}

// writeLines writes line protocol to db (µs times).
func writeLines(t *testing.T, db string, lines ...string) {
	t.Helper()
	q := url.Values{"db": {db}, "precision": {"u"}}
	resp, err := http.Post(influx.URL()+"/write?"+q.Encode(), "text/plain", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: status %d", resp.StatusCode)
	}
}

// TestEFDRefuses: a point that does not map onto its topic is one error
// naming the measurement, the point's time and the field; a pattern that
// names nothing, or a measurement that is no topic of the interfaces, is
// bad input.
func TestEFDRefuses(t *testing.T) {
	ifaces := interfaces(t)
	ctx := context.Background()
	c := influx.Client()
	pos := ifaces.Topic("ATDome", "position")
	// A whole point of ATDome position, in line protocol, as the sink
	// writes it.
	whole := func(extra string, drop string) string {
		var fields []string
		for _, f := range pos.Fields {
			if f.Name == drop {
				continue
			}
			switch f.AvroType {
			case "string":
				fields = append(fields, f.Name+`="x"`)
			case "int", "long":
				fields = append(fields, f.Name+"=1i")
			default:
				fields = append(fields, f.Name+"=1.5")
			}
		}
		if extra != "" {
			fields = append(fields, extra)
		}
		return "lsst.sal.ATDome.position " + strings.Join(fields, ",") + " 1767268800000000"
	}
	at := "point at 2026-01-01T12:00:00Z"
	cases := []struct {
		name, point, pattern, want string
		bad                        bool
	}{
		{"extra column", whole("bogus=2.5", ""), `lsst\.sal\.ATDome\.position`, `measurement lsst.sal.ATDome.position, ` + at + `: column "bogus" is not a field of ATDome.position`, false},
		{"int missing", whole("", "private_seqNum"), `lsst\.sal\.ATDome\.position`, at + `: field private_seqNum (int) is missing`, false},
		{"type differs", strings.Replace(whole("", ""), "private_seqNum=1i", `private_seqNum="one"`, 1), `lsst\.sal\.ATDome\.position`, at + `: field private_seqNum: one is not a number`, false},
		{"not a topic", "lsst.sal.Nope.x private_seqNum=1i 1767268800000000", `lsst\.sal\.Nope\..*`, "measurement lsst.sal.Nope.x: Nope.x is not in the loaded interfaces", true},
		{"nothing matches", whole("", ""), `lsst\.sal\.MTM1M3\..*`, `no measurement matches "lsst\\.sal\\.MTM1M3\\..*" (measurements there: lsst.sal.ATDome.position)`, true},
		{"nothing in range", "", `lsst\.sal\.ATDome\.position`, "no point of the 1 measurements", false},
	}
	for i, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			db := fmt.Sprintf("efd_bad_%d", i)
			if err := c.CreateDatabase(ctx, db); err != nil {
				t.Fatal(err)
			}
			from, to := time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC)
			if cs.point == "" {
				writeLines(t, db, whole("", ""))
				from, to = to, to.Add(time.Hour)
			} else {
				writeLines(t, db, cs.point)
			}
			var rec strings.Builder
			_, err := EFD(ctx, EFDConfig{Client: c, Database: db, Measurements: cs.pattern, From: from, To: to, Interfaces: ifaces}, &rec)
			if err == nil || !strings.Contains(err.Error(), cs.want) {
				t.Fatalf("error %v, want %q", err, cs.want)
			}
			if bad := errors.As(err, new(*exit.BadInput)); bad != cs.bad {
				t.Errorf("bad input %v, want %v", bad, cs.bad)
			}
			if rec.Len() != 0 {
				t.Errorf("wrote %d bytes", rec.Len())
			}
		})
	}
	// The whole point maps.
	db := "efd_good"
	c.CreateDatabase(ctx, db)
	writeLines(t, db, whole("", ""))
	var rec strings.Builder
	if st, err := EFD(ctx, EFDConfig{Client: c, Database: db, Measurements: `lsst\.sal\.ATDome\.position`,
		From: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC), Interfaces: ifaces}, &rec); err != nil || st.Samples != 1 {
		t.Fatalf("the whole point: %+v, %v", st, err)
	}
}
