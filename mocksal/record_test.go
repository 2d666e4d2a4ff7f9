package mocksal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// TestRecordReplay records a run and replays it at 1×, 4× and as fast as
// possible: the same samples in the same order, spacing kept in
// proportion, fresh send stamps.
func TestRecordReplay(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	pos := ifaces.Topic("ATDome", "position")
	bus := dds.NewBus()
	defer bus.Close()
	var rec bytes.Buffer
	r, err := NewRecorder(&rec)
	if err != nil {
		t.Fatal(err)
	}
	r.Attach(bus, 3)
	var written []Write
	if _, err := Run(context.Background(), bus, WriterConfig{Topic: pos, Domain: 3, RateHz: 20, Count: 10, Seed: 9}, func(w Write) { written = append(written, w) }); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil || r.Samples != 10 {
		t.Fatalf("recorded %d, %v", r.Samples, err)
	}
	cases := []struct {
		speed    float64
		min, max time.Duration
	}{
		{1, 400 * time.Millisecond, 1500 * time.Millisecond},
		{4, 100 * time.Millisecond, 400 * time.Millisecond},
		{0, 0, 100 * time.Millisecond},
	}
	for _, c := range cases {
		out := dds.NewBus()
		reader, _ := out.Subscribe(dds.ReaderConfig{Domain: 5, Topic: pos, Depth: 20})
		var replayed []Write
		start := time.Now()
		n, err := Replay(context.Background(), out, ifaces, bytes.NewReader(rec.Bytes()), ReplayConfig{Speed: c.speed, Domain: 5}, func(w Write) { replayed = append(replayed, w) })
		el := time.Since(start)
		if err != nil || n != 10 {
			t.Fatalf("speed %g: replayed %d, %v", c.speed, n, err)
		}
		if el < c.min || el > c.max {
			t.Errorf("speed %g: took %s, want %s to %s", c.speed, el, c.min, c.max)
		}
		for i := range 10 {
			s, _, _ := reader.Read(context.Background())
			if s.Get("private_seqNum") != written[i].SeqNum {
				t.Fatalf("speed %g: sample %d has seqNum %v", c.speed, i, s.Get("private_seqNum"))
			}
			if replayed[i].SndStamp <= written[i].SndStamp {
				t.Errorf("speed %g: sample %d keeps its old send stamp", c.speed, i)
			}
		}
		out.Close()
	}
	// Values survive the round trip through the recording.
	out := dds.NewBus()
	defer out.Close()
	reader, _ := out.Subscribe(dds.ReaderConfig{Domain: 3, Topic: pos, Depth: 20})
	src := dds.NewBus()
	defer src.Close()
	direct, _ := src.Subscribe(dds.ReaderConfig{Domain: 3, Topic: pos, Depth: 20})
	if _, err := Run(context.Background(), src, WriterConfig{Topic: pos, Domain: 3, Count: 10, Seed: 9}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(context.Background(), out, ifaces, bytes.NewReader(rec.Bytes()), ReplayConfig{Domain: -1}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		a, _, _ := direct.Read(context.Background())
		b, _, _ := reader.Read(context.Background())
		ia, ib := a.Topic.FieldIndex("dropoutDoorOpeningPercentage"), a.Topic.FieldIndex("azimuthEncoderPosition")
		if d := cmp.Diff(a.Values[ia:ib+1], b.Values[ia:ib+1]); d != "" {
			t.Fatalf("sample %d values differ after replay:\n%s", i, d)
		}
	}
}

func TestReplayErrors(t *testing.T) {
	ifaces, _ := sal.Load(sample.FS, sal.Avro(sample.Avro))
	cases := []struct{ in, want string }{
		{"", "empty recording"},
		{`{"format":"other"}` + "\n", `line 1: unknown recording format "other"`},
		{"not json\n", "line 1: not a recording"},
		{`{"format":"teststand-mocksal-recording/1"}` + "\n" + `{"t":0,"csc":"Nope","topic":"x","avro":""}` + "\n", "line 2: Nope.x is not in the loaded interfaces"},
		{`{"format":"teststand-mocksal-recording/1"}` + "\n" + `{"t":0,"csc":"ATDome","topic":"position","avro":"AAAA"}` + "\n", "line 2: ATDome.position"},
		{`{"format":"teststand-mocksal-recording/1"}` + "\n" + `{"t":0,"csc":"ATDome","topic":"posi`, "line 2: corrupt sample line"},
		{`{"format":"teststand-mocksal-recording/1"}` + "\n", "holds no sample"},
	}
	for _, c := range cases {
		bus := dds.NewBus()
		_, err := Replay(context.Background(), bus, ifaces, strings.NewReader(c.in), ReplayConfig{Domain: -1}, nil)
		bus.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

// TestRecordingTopics lists the writers of the shipped recording without
// replaying it, and refuses what is not a recording.
func TestRecordingTopics(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../scenarios/recordings/summit-nominal-1s.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws, err := RecordingTopics(ifaces, f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, w := range ws {
		got[fmt.Sprintf("%s:%d.%s", w.CSC, w.Index, w.Topic)] = w.Samples
	}
	if got["MTM1M3:0.forceActuatorData"] != 50 || got["MTHexapod:1.actuators"] != 20 || got["ATDome:0.position"] != 4 {
		t.Errorf("writers %v: want M1M3 at 50 Hz, MTHexapod:1 at 20 Hz, ATDome at 4 Hz for 1 s", got)
	}
	for _, bad := range []string{"", "{\"format\":\"other\"}\n", "{\"format\":\"" + RecordingFormatV1 + "\"}\n{\"csc\":\"Nope\",\"topic\":\"x\"}\n"} {
		if _, err := RecordingTopics(ifaces, strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
