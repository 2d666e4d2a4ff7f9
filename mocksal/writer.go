package mocksal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
)

// WriterConfig describes one writer: a (CSC, index, topic) on a domain.
type WriterConfig struct {
	// Topic is the SAL topic written.
	Topic *sal.Topic
	// Index is the salIndex of an indexed CSC (ignored otherwise).
	Index int32
	// Domain is the DDS domain id written to.
	Domain int
	// PartitionPrefix is LSST_DDS_PARTITION_PREFIX of the writing process.
	PartitionPrefix string
	// RateHz is the publishing rate; sub-Hz rates are allowed. Zero or less
	// writes as fast as readers accept.
	RateHz float64
	// Count is the number of samples to write; 0 means until Duration ends.
	Count int
	// Duration bounds the run when Count is 0.
	Duration time.Duration
	// Burst writes this many samples back to back at each tick (0 or 1:
	// one sample per tick); the rate counts ticks.
	Burst int
	// Jitter moves each tick by a uniform random offset in
	// [-Jitter, +Jitter] around its schedule, without drifting the rate.
	Jitter time.Duration
	// Phase delays the first tick (and the end, so the count stays
	// that of Duration): writers of one topic at several indices, as
	// separate CSC processes, do not tick in step.
	Phase time.Duration
	// Seed makes the values deterministic.
	Seed uint64
	// Lanes and Lane, when Lanes > 1, put every private_sndStamp on a
	// microsecond that is Lane modulo Lanes: writers of one topic in
	// different lanes never share an EFD timestamp, so that one's point
	// never overwrites another's (InfluxDB keeps one point per series and
	// time). Production has one writer per CSC topic; a stand writing
	// background load beside a scenario's traffic of the same topic has
	// two.
	Lanes, Lane int
	// Origin is private_origin; 0 means this process's pid. Giving each
	// simulated CSC process its own origin keeps ledgers of runs apart, as
	// a restarted CSC gets a new pid.
	Origin int32
	// Publish, when set, sends each sample somewhere other than the DDS
	// bus (SAL text to Kafka, as SAL once wrote) and returns how many
	// readers took it; Domain and PartitionPrefix are then unused.
	Publish func(ctx context.Context, s *sal.Sample) (readers int, err error)
}

// Write is what the ledger records of one written sample.
type Write struct {
	CSC      string
	Topic    string // sal_name
	Index    int32
	Identity string
	Origin   int32
	SeqNum   int32
	SndStamp float64 // TAI unix seconds
	Domain   int
	// Intended is when the pacing schedule meant the sample to go out; the
	// difference to SndStamp shows writer lag (coordinated omission).
	Intended time.Time
	// Readers is how many bus readers received it.
	Readers int
	// Values are the sample's values as written, in the topic's field
	// order (shared with the bus: read only).
	Values []any
}

// Identity is the private_identity of a CSC writer: "CSC" or "CSC:index".
func Identity(csc string, index int32) string {
	if index == 0 {
		return csc
	}
	return fmt.Sprintf("%s:%d", csc, index)
}

// Run writes samples until the count or duration is reached or ctx ends,
// calling onWrite (which may be nil) after each sample was published. It
// returns the number of samples written.
func Run(ctx context.Context, bus *dds.Bus, cfg WriterConfig, onWrite func(Write)) (int, error) {
	t := cfg.Topic
	if t == nil {
		return 0, errors.New("mocksal: writer needs a topic")
	}
	if cfg.Count <= 0 && cfg.Duration <= 0 {
		return 0, fmt.Errorf("mocksal: %s.%s: give a sample count or a duration", t.CSC, t.Name)
	}
	if t.Indexed && cfg.Index == 0 {
		return 0, fmt.Errorf("mocksal: %s is indexed: give a non-zero index", t.CSC)
	}
	origin := cfg.Origin
	if origin == 0 {
		origin = int32(os.Getpid())
	}
	identity := Identity(t.CSC, cfg.Index)
	if !t.Indexed {
		identity = Identity(t.CSC, 0)
	}
	g := newGenerator(t, cfg.Seed)
	pos := positions(t)

	var interval time.Duration
	if cfg.RateHz > 0 {
		interval = time.Duration(float64(time.Second) / cfg.RateHz)
	}
	start := time.Now().Add(cfg.Phase)
	var end time.Time
	if cfg.Count <= 0 {
		end = start.Add(cfg.Duration)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C

	burst := max(cfg.Burst, 1)
	var lastSnd float64
	jitter := rand.New(rand.NewPCG(cfg.Seed, 0x6a09e667)) // apart from the values' generator
	n := 0
	for cfg.Count <= 0 || n < cfg.Count {
		tick := n / burst
		intended := start.Add(time.Duration(tick) * interval)
		if !end.IsZero() && !intended.Before(end) {
			break
		}
		if cfg.Jitter > 0 && n%burst == 0 {
			intended = intended.Add(time.Duration(jitter.Int64N(int64(2*cfg.Jitter)+1)) - cfg.Jitter)
		}
		if d := time.Until(intended); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return n, ctx.Err()
			}
		}
		s := sal.NewSample(t)
		g.fill(s)
		seq := int32(n + 1)
		// A writer's clock reads advance between two writes, as a SAL
		// writer's do (salobj's are microseconds apart at best): two
		// samples of one writer never share an EFD timestamp.
		snd := onLane(max(sal.TAINow(), lastSnd+1e-6), cfg.Lanes, cfg.Lane)
		lastSnd = snd
		if pos.index >= 0 {
			s.Values[pos.index] = cfg.Index
		}
		s.Values[pos.snd] = snd
		s.Values[pos.seq] = seq
		s.Values[pos.identity] = identity
		s.Values[pos.origin] = origin
		s.Values[pos.revCode] = g.revCode
		var readers int
		var err error
		if cfg.Publish != nil {
			readers, err = cfg.Publish(ctx, s)
		} else {
			readers, err = bus.Publish(ctx, cfg.Domain, cfg.PartitionPrefix, s)
		}
		if err != nil {
			return n, fmt.Errorf("mocksal: publish %s.%s seq %d: %w", t.CSC, t.Name, seq, err)
		}
		n++
		if onWrite != nil {
			onWrite(Write{
				CSC: t.CSC, Topic: t.Name, Index: cfg.Index, Identity: identity,
				Origin: origin, SeqNum: seq, SndStamp: snd, Domain: cfg.Domain,
				Intended: intended, Readers: readers, Values: s.Values,
			})
		}
	}
	return n, nil
}

// fieldPositions caches where the private fields a writer sets live.
type fieldPositions struct {
	index, snd, seq, identity, origin, revCode int
}

func positions(t *sal.Topic) fieldPositions {
	return fieldPositions{
		index:    t.FieldIndex("salIndex"),
		snd:      t.FieldIndex("private_sndStamp"),
		seq:      t.FieldIndex("private_seqNum"),
		identity: t.FieldIndex("private_identity"),
		origin:   t.FieldIndex("private_origin"),
		revCode:  t.FieldIndex("private_revCode"),
	}
}

// onLane is snd moved forward onto the next microsecond that is lane
// modulo lanes (snd itself when lanes is 1 or less).
func onLane(snd float64, lanes, lane int) float64 {
	if lanes <= 1 {
		return snd
	}
	us := int64(math.Ceil(snd * 1e6))
	us += (int64(lane) - us%int64(lanes) + int64(lanes)) % int64(lanes)
	return float64(us) / 1e6
}
