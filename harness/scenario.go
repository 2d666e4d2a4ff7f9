package harness

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/reports"
	"github.com/lsst-ts/teststand/saltransform"
)

// origins hands every traffic run its own private_origin, as every start of
// a real CSC gets its own pid; ledgers of runs never mix.
var origins atomic.Int32

func init() { origins.Store(int32(1_000_000 + rand.IntN(1_000_000_000))) }

// Scenario is one scenario's traffic and observations on a running stand.
type Scenario struct {
	env    *Env
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	traffic []*Traffic
	taps    map[*Traffic][]*Tap
	// results hold one verdict per topic, identity and target checked
	// (reports.Put), the latest check's.
	results []reports.Topic
	bg      sync.WaitGroup // background writers
	hub     *observe.Hub   // reads every tap's place: a consumer per cluster, a poller per database
}

// NewScenario starts a scenario; Close ends its taps.
func (e *Env) NewScenario(ctx context.Context) *Scenario {
	sctx, cancel := context.WithCancel(ctx)
	return &Scenario{env: e, ctx: sctx, cancel: cancel, taps: map[*Traffic][]*Tap{}, hub: observe.NewHub(sctx)}
}

// Go runs f in the background for the scenario's life: its context ends
// when the scenario closes, and Close waits for it.
func (s *Scenario) Go(f func(ctx context.Context)) {
	s.bg.Go(func() { f(s.ctx) })
}

// Close stops the scenario's writers and taps and waits for them.
func (s *Scenario) Close() {
	s.cancel()
	s.bg.Wait()
	s.hub.Wait()
}

// PublishSpec is one writer's traffic.
type PublishSpec struct {
	CSC             string
	Index           int32
	Topic           string // sal_name
	RateHz          float64
	Duration        time.Duration
	Count           int
	Domain          int
	PartitionPrefix string
	Seed            uint64
	// Burst and Jitter shape the pacing as a profile's rules do.
	Burst  int
	Jitter time.Duration
	// Phase delays the writer's first tick (see mocksal.WriterConfig).
	Phase time.Duration
	// Origin, when set, is the private_origin the samples carry (a replay
	// gives all its writers one); 0 means a new one.
	Origin int32
	// TextSite, when set, writes the samples as SAL text to that site's
	// Kafka (topic <CSC>_<kind>) instead of on a DDS domain.
	TextSite string
	// KafkaWriter, when set, writes the samples as that Kafka-era writer
	// group of the stand does (ts_salobj 8): straight to its site's Kafka
	// under its subname, on no DDS domain.
	KafkaWriter string
	// Databases, when set, are the only InfluxDB targets watched (the
	// sinks' and every database of every site otherwise): a stand with
	// many databases checks the others once, afterwards.
	Databases []Target
}

// Publish writes traffic and blocks until the writer is done. Taps on every
// place the samples may appear are started first, so that every sighting
// is timed.
func (s *Scenario) Publish(ctx context.Context, p PublishSpec) (*Traffic, error) {
	tr, err := s.Start(p)
	if err != nil {
		return nil, err
	}
	s.write(ctx, tr, p)
	return tr, tr.Wait(ctx)
}

// PublishAsync starts writing traffic and returns at once; steps that
// check its delivery wait for the writer first.
func (s *Scenario) PublishAsync(p PublishSpec) (*Traffic, error) {
	trs, err := s.PublishAllAsync([]PublishSpec{p})
	if err != nil {
		return nil, err
	}
	return trs[0], nil
}

// PublishAllAsync registers every writer's traffic and taps first, then
// starts them all: the first writes nothing while the last are still
// being tapped.
func (s *Scenario) PublishAllAsync(specs []PublishSpec) ([]*Traffic, error) {
	counts := s.producerCounts()
	trs := make([]*Traffic, len(specs))
	for i, p := range specs {
		tr, err := s.start(p, counts)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.CSC, p.Topic, err)
		}
		trs[i] = tr
	}
	for i, p := range specs {
		s.bg.Go(func() { s.write(s.ctx, trs[i], p) })
	}
	return trs, nil
}

func (s *Scenario) write(ctx context.Context, tr *Traffic, p PublishSpec) {
	wc := mocksal.WriterConfig{
		Topic: tr.Topic, Index: p.Index, Domain: p.Domain, PartitionPrefix: p.PartitionPrefix,
		RateHz: p.RateHz, Count: p.Count, Duration: p.Duration, Seed: p.Seed, Origin: tr.Origin,
		Burst: p.Burst, Jitter: p.Jitter, Phase: p.Phase, Lanes: stampLanes, Lane: checkedLane,
	}
	switch {
	case p.TextSite != "":
		pub, closeText, err := s.env.textPublisher(p.TextSite)
		if err != nil {
			tr.Finish(err)
			return
		}
		defer closeText()
		wc.Publish = pub
	case tr.KafkaWriter != "":
		kw, err := s.env.kafkaWriter(ctx, tr.KafkaWriter, tr.Topic)
		if err != nil {
			tr.Finish(err)
			return
		}
		wc.Publish = kw.Publish
	}
	if s.env.realDDS() && p.TextSite == "" && tr.KafkaWriter == "" {
		// On real DDS a writer writes on its own domain, served or not:
		// domain isolation is then DDS's, not the bus's.
		if err := s.env.joinDomain(ctx, p.Domain); err != nil {
			tr.Finish(err)
			return
		}
	}
	_, err := mocksal.Run(ctx, s.env.Bus, wc, tr.Record)
	tr.Finish(err)
}

// PublishProcess writes traffic from a mocksal process of its own on the
// stand's cross-process DDS bus, and reads its ledger when it exits.
func (s *Scenario) PublishProcess(ctx context.Context, p PublishSpec) (_ *Traffic, err error) {
	tr, err := s.Start(p)
	if err != nil {
		return nil, err
	}
	finished := false
	defer func() {
		if !finished { // the ledger is as complete as it will get
			tr.Finish(err)
		}
	}()
	bin, err := host.Command(ctx, "mocksal")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "teststand-mocksal-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ledger := filepath.Join(dir, "ledger.jsonl")
	csc := p.CSC
	if p.Index != 0 {
		csc = fmt.Sprintf("%s:%d", p.CSC, p.Index)
	}
	// The process binds its domain's port of the stand's range: claimed
	// first, whether or not the stand joined that domain.
	s.env.linksMu.Lock()
	err = s.env.claimDomain(p.Domain)
	s.env.linksMu.Unlock()
	if err != nil {
		return nil, err
	}
	args := []string{"--domain", strconv.Itoa(p.Domain), "--partition-prefix", p.PartitionPrefix,
		"--csc", csc, "--topic", p.Topic, "--rate", strconv.FormatFloat(p.RateHz, 'f', -1, 64),
		"--origin", strconv.Itoa(int(tr.Origin)), "--seed", strconv.FormatUint(p.Seed, 10),
		"--ledger", ledger, "--dds-base-port", strconv.Itoa(s.env.DDSBasePort), "--dds", s.env.ddsTransport()}
	if p.Count > 0 {
		args = append(args, "--count", strconv.Itoa(p.Count))
	} else {
		args = append(args, "--duration", p.Duration.String())
	}
	args = append(args, "--ts-xml="+s.env.Stand.InterfacesDir()) // "" is the built-in set, whatever TS_XML_DIR says
	pr, err := host.StartProcess("mocksal", bin, args, nil)
	if err != nil {
		return nil, err
	}
	select {
	case <-pr.Done():
	case <-ctx.Done():
		pr.Stop(5 * time.Second)
		return nil, ctx.Err()
	}
	if err := pr.Wait(); err != nil {
		return nil, fmt.Errorf("mocksal process: %w\n%s", err, pr.Tail(2000))
	}
	f, err := os.Open(ledger)
	if err != nil {
		return nil, fmt.Errorf("mocksal ledger: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	for {
		var w mocksal.Write
		if err := dec.Decode(&w); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("mocksal ledger: %w", err)
		}
		tr.Record(w)
	}
	finished = true
	tr.Finish(nil)
	return tr, nil
}

// Start registers traffic and its taps without writing anything.
func (s *Scenario) Start(p PublishSpec) (*Traffic, error) {
	return s.start(p, s.producerCounts())
}

// producerCounts are the stand's producers' read counters now, by
// producer, then CSC and topic: read once for every traffic a step starts
// (a producer's read counters are the baseline its steps count a traffic
// from), and indexed once, not searched for each of the whole summit's
// writers.
func (s *Scenario) producerCounts() map[string]map[[2]string]int64 {
	out := map[string]map[[2]string]int64{}
	for _, pr := range s.env.Stand.Producers {
		fams, err := s.env.Metrics(s.ctx, pr.Name)
		if err != nil {
			continue
		}
		byTopic := map[[2]string]int64{}
		for _, f := range fams {
			if f.GetName() != producerReadMetric {
				continue
			}
			for _, m := range f.GetMetric() {
				var k [2]string
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "csc":
						k[0] = l.GetValue()
					case "topic":
						k[1] = l.GetValue()
					}
				}
				byTopic[k] += int64(m.GetCounter().GetValue() + m.GetGauge().GetValue())
			}
		}
		out[pr.Name] = byTopic
	}
	return out
}

func (s *Scenario) start(p PublishSpec, counts map[string]map[[2]string]int64) (*Traffic, error) {
	comp := s.env.Stand.Loaded.Component(p.CSC)
	if comp == nil {
		return nil, fmt.Errorf("unknown CSC %q (loaded: %s)", p.CSC, strings.Join(s.env.Stand.Loaded.Names(), ", "))
	}
	t := comp.Topic(p.Topic)
	if t == nil {
		return nil, fmt.Errorf("CSC %s has no topic %q", p.CSC, p.Topic)
	}
	if comp.Indexed && p.Index == 0 {
		return nil, fmt.Errorf("%s is indexed: say which index (e.g. %s:1)", p.CSC, p.CSC)
	}
	if p.KafkaWriter == "" && p.TextSite == "" {
		// On a Kafka-era stand the writer group standing for the domain
		// writes what a DDS-era feature publishes there.
		if w := s.env.Stand.WriterFor(p.Domain, p.CSC, p.Index); w != nil {
			p.KafkaWriter = w.Name
		}
	}
	origin := p.Origin
	if origin == 0 {
		origin = origins.Add(1)
	}
	tr := observe.NewTraffic(t, p.Index, origin, p.RateHz)
	tr.Domain, tr.TextSite, tr.KafkaWriter = p.Domain, p.TextSite, p.KafkaWriter
	taps, err := s.tapsFor(tr, p.Databases)
	if err != nil {
		return nil, err
	}
	tr.ReadBefore = map[string]int64{}
	for name, byTopic := range counts {
		tr.ReadBefore[name] = byTopic[[2]string{t.CSC, t.Name}]
	}
	s.mu.Lock()
	s.traffic = append(s.traffic, tr)
	s.taps[tr] = taps
	s.mu.Unlock()
	s.env.noteTraffic(tr)
	return tr, nil
}

// tapsFor derives every place tr's samples may show up from the stand: the
// topic at each site whose producer serves the CSC, its replicas under each
// flow from there, and each sink database whose topics match a replica or
// the topic itself.
func (s *Scenario) tapsFor(tr *Traffic, only []Target) ([]*Tap, error) {
	watched := func(at Target) bool { return only == nil || slices.Contains(only, at) }
	var seeds []stand.SiteTopic
	if tr.TextSite != "" {
		// Written as text: it appears where a transform at that site
		// reading the CSC writes it.
		for _, x := range s.env.Stand.SalTransforms {
			if x.Site.Value == tr.TextSite && slices.ContainsFunc(x.CSCs, func(c Ref) bool { return c.Value == tr.Topic.CSC }) {
				seeds = append(seeds, stand.SiteTopic{Site: x.Site.Value, Topic: saltransform.OutputTopic(tr.Topic)})
			}
		}
	}
	if w := s.env.Stand.Writer(tr.KafkaWriter); w != nil {
		seeds = append(seeds, stand.SiteTopic{Site: w.Site.Value, Topic: tr.Topic.KafkaTopic(w.Subname)})
	}
	for _, p := range s.env.Stand.Producers {
		if tr.TextSite != "" || tr.KafkaWriter != "" {
			break // no producer reads it
		}
		for _, c := range p.CSCs {
			name, _, _ := strings.Cut(c.Value, ":")
			if name == tr.Topic.CSC {
				seeds = append(seeds, stand.SiteTopic{Site: p.Site.Value, Topic: tr.Topic.KafkaTopic(p.Subname)})
			}
		}
	}
	places, from, err := s.env.Stand.ReplicaTree(seeds...)
	if err != nil {
		return nil, err
	}
	var taps []*Tap
	for i, p := range places {
		se := s.env.Sites[p.Site]
		tap, err := s.hub.KafkaTap(se.Brokers, observe.Kafka(p.Site, p.Topic), tr, se.KafkaOpts...)
		if err != nil {
			return nil, err
		}
		if from[i] >= 0 {
			tap.After(taps[from[i]])
		}
		taps = append(taps, tap)
	}
	for _, k := range s.env.Stand.Sinks {
		for i, p := range places {
			if p.Site != k.Site.Value {
				continue
			}
			rule := k.Route(p.Topic)
			if rule == nil || !watched(observe.Influx(p.Site, rule.Database)) {
				continue
			}
			se := s.env.Sites[p.Site]
			measurement := cmp.Or(rule.Measurement, tr.Topic.FullName())
			taps = append(taps, s.hub.InfluxTap(se.Influx(), s.env.Database(p.Site, rule.Database), measurement, observe.Influx(p.Site, rule.Database), tr).After(taps[i]))
			break
		}
	}
	// Every other database of every site is watched too, under the
	// sink's default measurement: a scenario may assert that samples are
	// not delivered to a site whose sink is missing or broken, and that
	// verdict must come from that site's own storage.
	tapped := map[Target]bool{}
	for _, t := range taps {
		tapped[t.Target] = true
	}
	for _, site := range s.env.Stand.SiteNames() {
		spec, se := s.env.Stand.Sites[site], s.env.Sites[site]
		if spec.InfluxDB == nil || se == nil || se.InfluxURL == "" {
			continue
		}
		for _, db := range spec.InfluxDB.Names() {
			if at := observe.Influx(site, db); !tapped[at] && watched(at) {
				taps = append(taps, s.hub.InfluxTap(se.Influx(), s.env.Database(site, db), tr.Topic.FullName(), at, tr))
			}
		}
	}
	return taps, nil
}

// AllTraffic returns every traffic of the scenario, in publishing order.
func (s *Scenario) AllTraffic() []*Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Traffic(nil), s.traffic...)
}

// Traffic returns the scenario's traffic of csc[:index] topic, the latest first.
func (s *Scenario) Traffic(csc string, index int32, topic string) *Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.traffic) - 1; i >= 0; i-- {
		t := s.traffic[i]
		if t.Topic.CSC == csc && t.Topic.Name == topic && t.Index == index {
			return t
		}
	}
	return nil
}

// tap finds tr's tap at target.
func (s *Scenario) tap(tr *Traffic, target Target) *Tap {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.taps[tr] {
		if t.Target == target {
			return t
		}
	}
	return nil
}

// Taps lists where tr is observed, in the order of its path.
func (s *Scenario) Taps(tr *Traffic) []Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Target
	for _, t := range s.taps[tr] {
		out = append(out, t.Target)
	}
	return out
}

// notObserved is the error for a target tr has no tap at.
func (s *Scenario) notObserved(tr *Traffic, target Target) error {
	var at []string
	for _, t := range s.Taps(tr) {
		at = append(at, t.String())
	}
	return fmt.Errorf("%s.%s is not observed at %s (observed at: %s)", tr.Topic.CSC, tr.Topic.Name, target, strings.Join(at, ", "))
}

// WaitDelivered waits until every written sample of tr has been seen at
// target, or timeout passes, and returns the verdict either way.
func (s *Scenario) WaitDelivered(ctx context.Context, tr *Traffic, target Target, timeout time.Duration) (reports.Topic, error) {
	tap := s.tap(tr, target)
	if tap == nil {
		return reports.Topic{}, s.notObserved(tr, target)
	}
	if err := tr.Wait(ctx); err != nil {
		return reports.Topic{}, fmt.Errorf("writing %s.%s: %w", tr.Topic.CSC, tr.Topic.Name, err)
	}
	if err := tap.WaitCount(ctx, len(tr.Writes()), timeout); err != nil {
		return reports.Topic{}, err
	}
	if tap.Count() < tr.Len() {
		if err := s.sweep(ctx, tr); err != nil {
			return reports.Topic{}, err
		}
	}
	if err := s.catchUp(ctx, tr, target); err != nil {
		return reports.Topic{}, err
	}
	return s.Verdict(tr, target), nil
}

// WaitSeen waits until tr's tap at target has seen every written sample,
// or timeout passes, and judges nothing: a bench measures how long the
// stack took with it before it takes the verdicts, whose cost would
// otherwise be in the figure.
func (s *Scenario) WaitSeen(ctx context.Context, tr *Traffic, target Target, timeout time.Duration) error {
	tap := s.tap(tr, target)
	if tap == nil {
		return s.notObserved(tr, target)
	}
	if err := tr.Wait(ctx); err != nil {
		return fmt.Errorf("writing %s.%s: %w", tr.Topic.CSC, tr.Topic.Name, err)
	}
	return tap.WaitCount(ctx, tr.Len(), timeout)
}

// TapError is the last error of tr's tap at target (an InfluxDB query
// that failed, say), or nil.
func (s *Scenario) TapError(tr *Traffic, target Target) error {
	if t := s.tap(tr, target); t != nil {
		return t.Err()
	}
	return nil
}

// Settle waits d (so that late samples would show) and returns the verdict.
func (s *Scenario) Settle(ctx context.Context, tr *Traffic, target Target, d time.Duration) (reports.Topic, error) {
	if s.tap(tr, target) == nil {
		return reports.Topic{}, s.notObserved(tr, target)
	}
	if err := tr.Wait(ctx); err != nil {
		return reports.Topic{}, fmt.Errorf("writing %s.%s: %w", tr.Topic.CSC, tr.Topic.Name, err)
	}
	select {
	case <-ctx.Done():
		return reports.Topic{}, ctx.Err()
	case <-time.After(d):
	}
	if err := s.sweep(ctx, tr); err != nil {
		return reports.Topic{}, err
	}
	if err := s.catchUp(ctx, tr, target); err != nil {
		return reports.Topic{}, err
	}
	return s.Verdict(tr, target), nil
}

// catchUp waits until the Kafka taps of tr on the way to target have read
// every sample target holds (observe.CatchUp); one still behind then
// shows as an incomplete hop in the verdict.
func (s *Scenario) catchUp(ctx context.Context, tr *Traffic, target Target) error {
	s.mu.Lock()
	taps := append([]*Tap(nil), s.taps[tr]...)
	s.mu.Unlock()
	if t, err := observe.CatchUp(ctx, taps, target, 0); err != nil {
		return err
	} else if t != nil {
		s.env.log.Warn("harness: a tap is still behind the place after it", "topic", tr.Topic.KafkaTopic(""), "tap", t.Target.String(), "target", target.String())
	}
	return nil
}

// sweep has every tap of tr read its whole place again (the InfluxDB taps
// read incrementally), so that a verdict rests on everything there.
func (s *Scenario) sweep(ctx context.Context, tr *Traffic) error {
	s.mu.Lock()
	taps := append([]*Tap(nil), s.taps[tr]...)
	s.mu.Unlock()
	for _, t := range taps {
		if err := t.Sweep(ctx); err != nil {
			return fmt.Errorf("reading %s again: %w", t.Target, err)
		}
	}
	return nil
}

// VerdictWhen waits until tr's verdict at target satisfies ok, or
// timeout passes, and returns the latest verdict either way (ctx's error
// if it ends first): for checks whose samples arrive late (copies a
// restart makes again, samples a restarted producer writes).
func (s *Scenario) VerdictWhen(ctx context.Context, tr *Traffic, target Target, timeout time.Duration, ok func(reports.Topic) bool) (reports.Topic, error) {
	res := s.Verdict(tr, target)
	for deadline := time.Now().Add(timeout); !ok(res) && time.Now().Before(deadline); res = s.Verdict(tr, target) {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := s.sweep(ctx, tr); err != nil {
		return res, err
	}
	if err := s.catchUp(ctx, tr, target); err != nil {
		return res, err
	}
	return s.Verdict(tr, target), nil
}

// Verdict compares the ledger of tr with what was seen at target and
// along the way, and records the result for the report.
func (s *Scenario) Verdict(tr *Traffic, target observe.Target) reports.Topic {
	s.mu.Lock()
	taps := append([]*Tap(nil), s.taps[tr]...)
	s.mu.Unlock()
	res := observe.Verdict(tr, taps, target)
	s.mu.Lock()
	s.results = reports.Put(s.results, res)
	s.mu.Unlock()
	return res
}

// Results are the verdicts recorded so far.
func (s *Scenario) Results() []reports.Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]reports.Topic(nil), s.results...)
}
