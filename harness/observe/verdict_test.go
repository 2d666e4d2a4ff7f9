package observe

import (
	"slices"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// TestVerdict turns ledgers and sightings into verdicts: what a target
// lost, duplicates (for an InfluxDB target, from the last Kafka tap
// before it, since InfluxDB overwrites), reordering, and one hop per tap
// of the path up to the target.
func TestVerdict(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	topic := ifaces.Topic("ATDome", "position")
	summit, usdf, efd := Kafka("summit", "lsst.sal.ATDome.position"), Kafka("usdf", "summit.lsst.sal.ATDome.position"), Influx("usdf", "efd")
	type saw struct {
		at        Target
		seqs      []int32
		partition int32
		elsewhere bool // on another branch: not After the tap before it
	}
	lab := Kafka("lab", "lsst.sal.ATDome.position")
	cases := []struct {
		name                                   string
		sightings                              []saw
		target                                 Target
		delivered, lost, duplicated, reordered int
		missing                                []int64
		hops                                   []string
	}{
		{"every sample everywhere", []saw{{summit, []int32{1, 2, 3, 4}, 0, false}, {usdf, []int32{1, 2, 3, 4}, 0, false}, {efd, []int32{1, 2, 3, 4}, -1, false}},
			efd, 4, 0, 0, 0, nil, []string{"dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf", "end-to-end"}},
		{"lost on the link", []saw{{summit, []int32{1, 2, 3, 4}, 0, false}, {usdf, []int32{1, 4}, 0, false}, {efd, []int32{1, 4}, -1, false}},
			efd, 2, 2, 0, 0, []int64{2, 3}, []string{"dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf", "end-to-end"}},
		{"duplicates at the USDF count at its EFD", []saw{{summit, []int32{1, 2, 3, 4}, 0, false}, {usdf, []int32{1, 2, 3, 4, 3, 4}, 0, false}, {efd, []int32{1, 2, 3, 4}, -1, false}},
			efd, 4, 0, 2, 1, nil, []string{"dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf", "end-to-end"}},
		{"judged at the summit, the path ends there", []saw{{summit, []int32{1, 2, 4, 3}, 0, false}, {usdf, []int32{1}, 0, false}, {efd, nil, -1, false}},
			summit, 4, 0, 0, 1, nil, []string{"dds→producer", "→kafka@summit", "end-to-end"}},
		{"another site's copy of the CSC is not on the path", []saw{{lab, []int32{1, 2, 3, 4, 4}, 0, true}, {summit, []int32{1, 2, 3, 4}, 0, true}, {usdf, []int32{1, 2, 3}, 0, false}, {efd, []int32{1, 2, 3}, -1, false}},
			efd, 3, 1, 0, 0, []int64{4}, []string{"dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf", "end-to-end"}},
		{"a target with no tap is all lost, no hops", []saw{{summit, []int32{1, 2, 3, 4}, 0, false}},
			Kafka("base", "x"), 0, 0, 0, 0, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTraffic(topic, 0, 7, 10)
			t0 := time.Now().Add(-time.Minute)
			for seq := int32(1); seq <= 4; seq++ {
				tr.Record(mocksal.Write{SeqNum: seq, SndStamp: float64(t0.UnixMicro())/1e6 + 37 + float64(seq)/10})
			}
			tr.Finish(nil)
			var taps []*Tap
			for i, s := range c.sightings {
				tap := NewTap(s.at)
				for _, q := range s.seqs {
					tap.Saw(q, s.partition, 0, t0.Add(time.Second))
				}
				if i > 0 && !s.elsewhere {
					tap.After(taps[i-1])
				}
				taps = append(taps, tap)
			}
			res := Verdict(tr, taps, c.target)
			if res.Target != c.target.String() || res.Sent != 4 {
				t.Fatalf("verdict for %s, sent %d; want %s, sent 4", res.Target, res.Sent, c.target)
			}
			if c.hops == nil { // no tap at the target: nothing judged
				if res.Delivered != 0 || len(res.Hops) != 0 {
					t.Errorf("delivered %d, %d hops; want none", res.Delivered, len(res.Hops))
				}
				return
			}
			if res.Delivered != c.delivered || res.Lost != c.lost || res.Duplicated != c.duplicated || res.Reordered != c.reordered || !slices.Equal(res.Missing, c.missing) {
				t.Errorf("delivered %d lost %d (%v) duplicated %d reordered %d; want %d %d (%v) %d %d",
					res.Delivered, res.Lost, res.Missing, res.Duplicated, res.Reordered, c.delivered, c.lost, c.missing, c.duplicated, c.reordered)
			}
			var hops []string
			for _, h := range res.Hops {
				hops = append(hops, h.Name)
			}
			if !slices.Equal(hops, c.hops) {
				t.Errorf("hops %v, want %v", hops, c.hops)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	for _, c := range []struct {
		t         Target
		name, hop string
	}{
		{Kafka("usdf", "summit.lsst.sal.ATDome.position"), "kafka@usdf/summit.lsst.sal.ATDome.position", "→kafka@usdf"},
		{Influx("summit", "efd"), "influxdb@summit/efd", "→influxdb@summit"},
	} {
		if c.t.String() != c.name || c.t.Hop() != c.hop {
			t.Errorf("%#v: %q %q, want %q %q", c.t, c.t.String(), c.t.Hop(), c.name, c.hop)
		}
	}
}

// TestCatchUp shows why a verdict waits for the Kafka taps before its
// target: taken while the USDF's tap has read two of the four samples the
// EFD holds, the hop is incomplete and the duplicates the USDF topic holds
// go uncounted; CatchUp waits until that tap has read them, and when it
// never does, it gives the tap back once its time is up, so the verdict
// shows the hop incomplete. The CSC's topic at another site is on
// another branch: it is neither waited for nor on the verdict's path.
func TestCatchUp(t *testing.T) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	topic := ifaces.Topic("ATDome", "position")
	summit, usdf, efd := Kafka("summit", "lsst.sal.ATDome.position"), Kafka("usdf", "summit.lsst.sal.ATDome.position"), Influx("usdf", "efd")
	setup := func() (*Traffic, []*Tap) {
		tr := NewTraffic(topic, 0, 7, 10)
		t0 := time.Now().Add(-time.Minute)
		for seq := int32(1); seq <= 4; seq++ {
			tr.Record(mocksal.Write{SeqNum: seq, SndStamp: float64(t0.UnixMicro())/1e6 + 37 + float64(seq)/10})
		}
		tr.Finish(nil)
		taps := []*Tap{NewTap(summit)}
		taps = append(taps, NewTap(usdf).After(taps[0]), NewTap(efd))
		taps[2].After(taps[1])
		// The CSC written at another site too: a branch that never sees
		// these samples, and is not waited for.
		taps = append([]*Tap{NewTap(Kafka("lab", "lsst.sal.ATDome.position"))}, taps...)
		for seq := int32(1); seq <= 4; seq++ {
			taps[1].Saw(seq, 0, 0, t0.Add(time.Second))
			taps[3].Saw(seq, -1, 0, t0.Add(3*time.Second))
		}
		taps[2].Saw(1, 0, 0, t0.Add(2*time.Second))
		taps[2].Saw(2, 0, 0, t0.Add(2*time.Second))
		return tr, taps
	}
	complete := func(tr *Traffic, taps []*Tap) bool {
		for _, h := range Verdict(tr, taps, efd).Hops {
			if h.Name == "→kafka@usdf" {
				return h.Count == 4
			}
		}
		return false
	}

	tr, taps := setup()
	if got := Behind(taps, efd); got != taps[2] {
		t.Fatalf("Behind = %v, want the USDF's tap", got)
	}
	if complete(tr, taps) {
		t.Fatal("a verdict taken now should show the USDF hop incomplete")
	}
	go func() {
		time.Sleep(20 * time.Millisecond) // the tap reads on later
		for _, seq := range []int32{2, 3, 4, 3} {
			taps[2].Saw(seq, 0, 0, time.Now())
		}
	}()
	if behind, err := CatchUp(t.Context(), taps, efd, time.Minute); err != nil || behind != nil {
		t.Fatalf("CatchUp = %v, %v; want the USDF's tap caught up", behind, err)
	}
	if res := Verdict(tr, taps, efd); !complete(tr, taps) || res.Duplicated != 2 {
		t.Fatalf("after CatchUp: hops %v, duplicated %d; want every hop complete and the USDF's two copies counted", res.Hops, res.Duplicated)
	}
	if Behind(taps, summit) != nil {
		t.Fatal("nothing is before the first tap")
	}

	tr, taps = setup()
	behind, err := CatchUp(t.Context(), taps, efd, 50*time.Millisecond)
	if err != nil || behind != taps[2] || complete(tr, taps) {
		t.Fatalf("a tap that never reads on: CatchUp = %v, %v; want it given back and the hop incomplete", behind, err)
	}
}

// TestReadAgainIsNotADuplicate: a record read again at its offset (the
// client's fetch offset reset, as after a broker restart) is not a second
// sighting; another record with the same seqNum at another offset is, and
// so is another seqNum at a reused offset (a truncated partition).
func TestReadAgainIsNotADuplicate(t *testing.T) {
	ft := &followedTopic{read: map[int32]map[int64]int32{}}
	for _, tc := range []struct {
		partition int32
		offset    int64
		seq       int32
		want      bool
	}{
		{0, 0, 1, true},
		{0, 1, 2, true},
		{0, 0, 1, false}, // read again after a reset
		{0, 1, 2, false},
		{0, 2, 2, true}, // a duplicate: the same sample at another offset
		{1, 0, 1, true}, // another partition
		{0, 1, 9, true}, // offset 1 written again with another record
	} {
		if got := ft.first(tc.partition, tc.offset, tc.seq); got != tc.want {
			t.Errorf("partition %d offset %d seq %d: first %v, want %v", tc.partition, tc.offset, tc.seq, got, tc.want)
		}
	}
}
