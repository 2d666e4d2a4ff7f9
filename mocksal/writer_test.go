package mocksal

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func TestWriterFieldsAndLedger(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		csc, topic string
		index      int32
		identity   string
	}{
		{"ATDome", "position", 0, "ATDome"},
		{"MTHexapod", "", 2, "MTHexapod:2"},
		{"MTM1M3", "forceActuatorData", 0, "MTM1M3"},
	}
	for _, c := range cases {
		tp := ifaces.Topic(c.csc, c.topic)
		if tp == nil {
			for _, x := range ifaces.Component(c.csc).Topics {
				if x.Kind == sal.Telemetry {
					tp = x
					break
				}
			}
		}
		t.Run(c.csc+"."+tp.Name, func(t *testing.T) {
			bus := dds.NewBus()
			defer bus.Close()
			r, err := bus.Subscribe(dds.ReaderConfig{Topic: tp, Depth: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ledger []Write
			n, err := Run(context.Background(), bus, WriterConfig{Topic: tp, Index: c.index, RateHz: 200, Count: 5, Seed: 1, Origin: 42}, func(w Write) { ledger = append(ledger, w) })
			if err != nil || n != 5 || len(ledger) != 5 {
				t.Fatalf("wrote %d (ledger %d), err %v; want 5", n, len(ledger), err)
			}
			for i := range 5 {
				s, _, err := r.Read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				w := ledger[i]
				if got := s.Get("private_seqNum"); got != int32(i+1) || w.SeqNum != int32(i+1) {
					t.Errorf("seqNum %v (ledger %d), want %d", got, w.SeqNum, i+1)
				}
				if got := s.Get("private_identity"); got != c.identity || w.Identity != c.identity {
					t.Errorf("identity %v, want %s", got, c.identity)
				}
				// ts_xml's get_revcode: md5 of json.dumps(schema, indent=4),
				// 8 hex digits (4b27c1a3 for ATDome position, by Python).
				if got := s.Get("private_revCode"); got != tp.RevCode() || tp.Name == "position" && got != "4b27c1a3" {
					t.Errorf("revCode %v, want ts_xml's %s", got, tp.RevCode())
				}
				if got := s.Get("private_origin"); got != int32(42) {
					t.Errorf("origin %v, want 42", got)
				}
				snd := s.Get("private_sndStamp").(float64)
				if snd != w.SndStamp || snd < sal.TAINow()-60 {
					t.Errorf("sndStamp %v, ledger %v: want TAI now", snd, w.SndStamp)
				}
				if tp.Indexed && s.Get("salIndex") != c.index {
					t.Errorf("salIndex %v, want %d", s.Get("salIndex"), c.index)
				}
				if w.Readers != 1 {
					t.Errorf("readers %d, want 1", w.Readers)
				}
				if _, err := tp.AppendAvro(nil, s); err != nil {
					t.Errorf("sample does not encode: %v", err)
				}
			}
		})
	}
}

// TestSeededValues checks the same seed gives the same values, stamps aside.
func TestSeededValues(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	tp := ifaces.Topic("MTM1M3", "forceActuatorData")
	values := func(seed uint64) [][]any {
		bus := dds.NewBus()
		defer bus.Close()
		r, _ := bus.Subscribe(dds.ReaderConfig{Topic: tp, Depth: 3})
		if _, err := Run(context.Background(), bus, WriterConfig{Topic: tp, Count: 3, Seed: seed}, nil); err != nil {
			t.Fatal(err)
		}
		var out [][]any
		for range 3 {
			s, _, _ := r.Read(context.Background())
			var v []any
			for i, f := range tp.Fields {
				if !f.Private {
					v = append(v, s.Values[i])
				}
			}
			out = append(out, v)
		}
		return out
	}
	a, b, c := values(7), values(7), values(8)
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different values:\n%s", d)
	}
	if cmp.Equal(a, c) {
		t.Error("different seeds gave the same values")
	}
}

// TestRate checks pacing: 20 samples at 100 Hz take about 190 ms.
func TestRate(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	tp := ifaces.Topic("ATDome", "position")
	bus := dds.NewBus()
	defer bus.Close()
	var ledger []Write
	start := time.Now()
	if _, err := Run(context.Background(), bus, WriterConfig{Topic: tp, RateHz: 100, Duration: 200 * time.Millisecond}, func(w Write) { ledger = append(ledger, w) }); err != nil {
		t.Fatal(err)
	}
	if len(ledger) != 20 {
		t.Errorf("wrote %d in 200 ms at 100 Hz, want 20", len(ledger))
	}
	if el := time.Since(start); el < 180*time.Millisecond {
		t.Errorf("took %s, want the writer paced", el)
	}
	if _, err := Run(context.Background(), bus, WriterConfig{Topic: tp}, nil); err == nil {
		t.Error("no count and no duration: want an error")
	}
}

// TestBurstAndJitter: a burst of 3 writes three samples per tick; jitter
// moves ticks around their schedule without drifting the rate.
func TestBurstAndJitter(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	tp := ifaces.Topic("ATDome", "position")
	cases := []struct {
		name   string
		cfg    WriterConfig
		checks func(t *testing.T, ledger []Write)
	}{
		{"burst", WriterConfig{Topic: tp, RateHz: 50, Count: 9, Burst: 3}, func(t *testing.T, l []Write) {
			for i := range l {
				if !l[i].Intended.Equal(l[i-i%3].Intended) {
					t.Errorf("sample %d not in its tick's burst", i)
				}
			}
			if d := l[3].Intended.Sub(l[0].Intended); d != 20*time.Millisecond {
				t.Errorf("ticks %s apart, want 20ms", d)
			}
		}},
		{"burst stamps apart", WriterConfig{Topic: tp, RateHz: 10, Count: 40, Burst: 20}, func(t *testing.T, l []Write) {
			for i := 1; i < len(l); i++ {
				if l[i].SndStamp < l[i-1].SndStamp+1e-6*0.999 {
					t.Fatalf("samples %d and %d stamped %.7f and %.7f: a writer's stamps must be a microsecond apart at least", i-1, i, l[i-1].SndStamp, l[i].SndStamp)
				}
			}
		}},
		{"phase", WriterConfig{Topic: tp, RateHz: 20, Duration: 200 * time.Millisecond, Phase: 25 * time.Millisecond}, func(t *testing.T, l []Write) {
			if len(l) != 4 {
				t.Errorf("%d samples in 200 ms at 20 Hz, want 4 (the phase shifts the end too)", len(l))
			}
		}},
		{"jitter", WriterConfig{Topic: tp, RateHz: 100, Count: 30, Jitter: 3 * time.Millisecond, Seed: 5}, func(t *testing.T, l []Write) {
			start := l[0].Intended.Add(3 * time.Millisecond) // the earliest possible schedule start
			moved := 0
			for i, w := range l {
				off := w.Intended.Sub(start.Add(time.Duration(i) * 10 * time.Millisecond))
				if off < -6*time.Millisecond || off > 6*time.Millisecond {
					t.Errorf("sample %d is %s off its schedule", i, off)
				}
				if i > 0 && w.Intended.Sub(l[i-1].Intended) != 10*time.Millisecond {
					moved++
				}
			}
			if moved == 0 {
				t.Error("jitter moved no tick")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := dds.NewBus()
			defer bus.Close()
			var ledger []Write
			if _, err := Run(context.Background(), bus, c.cfg, func(w Write) { ledger = append(ledger, w) }); err != nil {
				t.Fatal(err)
			}
			if c.cfg.Count > 0 && len(ledger) != c.cfg.Count {
				t.Fatalf("wrote %d, want %d", len(ledger), c.cfg.Count)
			}
			c.checks(t, ledger)
		})
	}
}

// TestOnLane puts stamps on their lane's microseconds: never earlier
// than asked, less than a lane cycle later, and on the lane still once
// read back from the float the sample carries (TAI seconds near 1.8e9).
func TestOnLane(t *testing.T) {
	for _, c := range []struct {
		snd         float64
		lanes, lane int
	}{
		{1_796_000_000.123456, 2, 0}, {1_796_000_000.123456, 2, 1},
		{1_796_000_000.1234567, 2, 0}, {1_796_000_000.9999999, 2, 1},
		{1_796_000_000.5, 3, 2}, {1_796_000_000.000001, 4, 3},
	} {
		got := onLane(c.snd, c.lanes, c.lane)
		us := int64(math.Round(got * 1e6))
		if got < c.snd || got-c.snd >= float64(c.lanes)*1e-6 || us%int64(c.lanes) != int64(c.lane) {
			t.Errorf("onLane(%.7f, %d, %d) = %.7f (µs %d mod %d = %d)", c.snd, c.lanes, c.lane, got, us, c.lanes, us%int64(c.lanes))
		}
	}
	if got := onLane(1.5, 1, 0); got != 1.5 {
		t.Errorf("one lane moved the stamp: %v", got)
	}
	// Two writers in different lanes never share a stamp, however close.
	for i := range 1000 {
		snd := 1_796_000_000 + float64(i)*3.3e-7
		if onLane(snd, 2, 0) == onLane(snd, 2, 1) {
			t.Fatalf("lanes 0 and 1 share %.7f", onLane(snd, 2, 0))
		}
	}
}
