package observe

import (
	"context"
	"slices"
	"time"

	"github.com/lsst-ts/teststand/reports"
	"github.com/lsst-ts/teststand/sal"
)

// maxMissingListed caps the missing seqNums listed in a verdict.
const maxMissingListed = 1000

// pathTo is the path of samples to target's tap among taps: the taps it
// comes After, from the first, and the target's tap last; nil when no tap
// is at target. Taps of other branches (a replica elsewhere, the same CSC
// written at another site) are not on it.
func pathTo(taps []*Tap, target Target) []*Tap {
	i := slices.IndexFunc(taps, func(t *Tap) bool { return t.Target == target })
	if i < 0 {
		return nil
	}
	var path []*Tap
	for t := taps[i]; t != nil && len(path) <= len(taps); t = t.up {
		path = append(path, t)
	}
	slices.Reverse(path)
	return path
}

// Verdict compares the ledger of tr with what the taps of its path to
// target (pathTo) saw: delivered, lost (the
// missing seqNums, the first maxMissingListed), duplicated, reordered,
// and the latency of every hop from private_sndStamp, with DDS →
// producer from private_rcvStamp as the first tap read it.
func Verdict(tr *Traffic, taps []*Tap, target Target) reports.Topic {
	writes := tr.Writes()
	res := reports.Topic{Topic: tr.Topic.KafkaTopic(""), Identity: tr.Identity(), Target: target.String(), Sent: len(writes)}

	path := pathTo(taps, target) // taps up to and including the target, in order
	if path == nil {
		return res
	}
	final := path[len(path)-1]
	seen, reordered, _ := final.snapshot()
	res.Reordered = reordered
	for _, w := range writes {
		sg, ok := seen[w.SeqNum]
		if !ok {
			res.Lost++
			if len(res.Missing) < maxMissingListed {
				res.Missing = append(res.Missing, int64(w.SeqNum))
			}
			continue
		}
		res.Delivered++
		if sg.count > 1 {
			res.Duplicated += sg.count - 1
		}
	}
	// Duplicates are visible in Kafka only (InfluxDB overwrites); take them
	// from the last Kafka tap before the target.
	if target.Kind == InfluxDB {
		for i := len(path) - 2; i >= 0; i-- {
			if path[i].Target.Kind == KafkaTopic {
				ks, kre, _ := path[i].snapshot()
				for _, sg := range ks {
					if sg.count > 1 {
						res.Duplicated += sg.count - 1
					}
				}
				res.Reordered += kre
				break
			}
		}
	}
	var interval time.Duration
	if tr.RateHz > 0 {
		interval = time.Duration(float64(time.Second) / tr.RateHz)
	}
	// DDS → producer from private_rcvStamp as the first tap read it;
	// traffic a Kafka-era writer or a text message carried crossed no DDS.
	if len(path) > 0 && tr.KafkaWriter == "" && tr.TextSite == "" {
		first, _, _ := path[0].snapshot()
		var pts []reports.Point
		for _, w := range writes {
			if sg, ok := first[w.SeqNum]; ok && sg.rcv > 0 {
				pts = append(pts, reports.Point{At: WallTime(w.SndStamp), LatencyMS: (sg.rcv - w.SndStamp) * 1e3})
			}
		}
		res.Hops = append(res.Hops, reports.HopFromLatencies("dds→producer", pts, interval))
	}
	for _, t := range path {
		sn, _, _ := t.snapshot()
		var pts []reports.Point
		for _, w := range writes {
			if sg, ok := sn[w.SeqNum]; ok {
				at := WallTime(w.SndStamp)
				pts = append(pts, reports.Point{At: at, LatencyMS: float64(sg.first.Sub(at).Microseconds()) / 1e3})
			}
		}
		res.Hops = append(res.Hops, reports.HopFromLatencies(t.Target.Hop(), pts, interval))
	}
	if len(res.Hops) > 0 {
		e2e := res.Hops[len(res.Hops)-1]
		e2e.Name = "end-to-end"
		res.Hops = append(res.Hops, e2e)
	}
	return res
}

// WallTime converts TAI unix seconds (private_sndStamp) to a wall-clock
// time.
func WallTime(tai float64) time.Time {
	return time.UnixMicro(int64(sal.UTCFromTAI(tai) * 1e6))
}

// pathCatchUp bounds how long a verdict waits for the Kafka taps before
// its target to have read what the target holds.
const pathCatchUp = 10 * time.Second

// Behind is the first Kafka tap on the path to target (taps in order, as
// Verdict takes them) that has not seen every sample the target's tap
// has, or nil. A sample at the target went through every topic before
// it, and a Kafka tap reads every record: such a tap is behind the
// stack, not evidence against it, and a verdict taken then would call
// the hop incomplete and count its duplicates short.
func Behind(taps []*Tap, target Target) *Tap {
	path := pathTo(taps, target)
	if path == nil {
		return nil
	}
	seen, _, _ := path[len(path)-1].snapshot()
	for _, t := range path[:len(path)-1] {
		if t.Target.Kind != KafkaTopic {
			continue
		}
		t.mu.Lock()
		missing := false
		for seq := range seen {
			if _, ok := t.seen[seq]; !ok {
				missing = true
				break
			}
		}
		t.mu.Unlock()
		if missing {
			return t
		}
	}
	return nil
}

// CatchUp waits until no Kafka tap on the path to target is Behind it,
// for at most timeout (pathCatchUp when 0), and returns the tap still
// behind then (nil when none is), or ctx's error. The verdict taken after
// it says what the stack did, not how far the observer had read.
func CatchUp(ctx context.Context, taps []*Tap, target Target, timeout time.Duration) (*Tap, error) {
	if timeout <= 0 {
		timeout = pathCatchUp
	}
	deadline := time.Now().Add(timeout)
	for {
		t := Behind(taps, target)
		if t == nil || !time.Now().Before(deadline) {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(InfluxPoll):
		}
	}
}
