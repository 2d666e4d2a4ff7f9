package harness

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/aliecs"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/every"
	"github.com/lsst-ts/teststand/reports"
)

// eventLedger is what a scenario's AliECS publisher published to a topic.
type eventLedger struct {
	publisher string
	sent      []uint64
}

var publishers atomic.Int64

func (st *Steps) publishEvents(ctx context.Context, count, kind, topic, site, auto string) error {
	se := st.Env.Sites[site]
	if se == nil {
		return fmt.Errorf("no site %q", site)
	}
	n, _ := strconv.Atoi(count)
	name := fmt.Sprintf("teststand-ecs-%d", publishers.Add(1))
	p, err := aliecs.NewPublisher(aliecs.Config{Brokers: se.Brokers, Name: name, RelyOnAutoCreate: auto != "",
		Logger: st.Env.log.With("component", "AliECS publisher "+name)})
	if err != nil {
		return err
	}
	defer p.Close()
	l := &eventLedger{publisher: name}
	s := state(ctx)
	if s.events == nil {
		s.events = map[string]*eventLedger{}
	}
	s.events[site+"/"+topic] = l
	for i := range n {
		ev := aliecs.RunEvent("env-teststand", uint32(1000+i), "RUNNING")
		if kind == "environment" {
			ev = aliecs.EnvironmentEvent("env-teststand", "RUNNING", uint32(1000+i))
		}
		seq, err := p.Publish(ctx, topic, ev)
		if err != nil {
			return err
		}
		l.sent = append(l.sent, seq)
	}
	return nil
}

// readEvents reads a topic from its start to its current end, with no
// consumer group, and returns the sequences of one publisher's events.
func readEvents(ctx context.Context, se *SiteEnv, topic, publisher string) ([]uint64, error) {
	var seqs []uint64
	err := observe.ReadToEnd(ctx, se.Brokers, topic, func(r *kgo.Record) {
		if ev, err := aliecs.Decode(r.Value); err == nil && ev.Publisher == publisher {
			seqs = append(seqs, ev.Sequence)
		}
	}, se.KafkaOpts...)
	return seqs, err
}

// eventVerdict compares what was read with what was sent.
func eventVerdict(sent, read []uint64) (verdict string, res reports.Topic) {
	seen := map[uint64]int{}
	for _, s := range read {
		seen[s]++
	}
	res.Sent = len(sent)
	for _, s := range sent {
		switch n := seen[s]; {
		case n == 0:
			res.Lost++
			res.Missing = append(res.Missing, int64(s))
		default:
			res.Delivered++
			res.Duplicated += n - 1
		}
	}
	switch {
	case res.Lost == 0 && res.Duplicated == 0:
		verdict = "delivered exactly once"
	case res.Lost == 1 && res.Missing[0] == int64(sent[0]) && res.Duplicated == 0:
		verdict = "first event lost"
	case res.Lost > 0:
		verdict = fmt.Sprintf("lost %d", res.Lost)
	default:
		verdict = fmt.Sprintf("duplicated %d", res.Duplicated)
	}
	return verdict, res
}

func (st *Steps) eventsReportedAs(ctx context.Context, topic, site, want, within string) error {
	s := state(ctx)
	l := s.events[site+"/"+topic]
	if l == nil {
		return fmt.Errorf("no AliECS events were published to %s at %s in this scenario", topic, site)
	}
	se := st.Env.Sites[site]
	var got string
	var res reports.Topic
	err := wait.ForCondition("AliECS events in "+topic, func(ctx context.Context) error {
		read, err := readEvents(ctx, se, topic, l.publisher)
		if err != nil {
			return err
		}
		got, res = eventVerdict(l.sent, read)
		if got != want {
			return fmt.Errorf("verdict %q, want %q (sent %d, delivered %d, lost %d, missing sequences %v)", got, want, res.Sent, res.Delivered, res.Lost, res.Missing)
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
	res.Topic, res.Identity, res.Target = topic, l.publisher, "kafka@"+site+"/"+topic
	s.extra = reports.Put(s.extra, res)
	return err
}

// sinkTopics is one regex of every rule's topics of a sink, and its
// site's brokers.
func (st *Steps) sinkTopics(name string) (*SinkSpec, string, error) {
	for _, k := range st.Env.Stand.Sinks {
		if k.Name == name {
			var parts []string
			for _, r := range k.CompiledRules() {
				for _, t := range r.Topics {
					parts = append(parts, "(?:"+t+")")
				}
			}
			re := "^(?:" + strings.Join(parts, "|") + ")$"
			if _, err := regexp.Compile(re); err != nil {
				return nil, "", err
			}
			return k, re, nil
		}
	}
	return nil, "", fmt.Errorf("no sink named %q", name)
}

func (st *Steps) startDebug(ctx context.Context, sinkName string, inGroup bool) error {
	s := state(ctx)
	if s.debug != nil {
		return fmt.Errorf("a debugging consumer is running already in this scenario")
	}
	k, re, err := st.sinkTopics(sinkName)
	if err != nil {
		return err
	}
	s.debug, err = st.Env.startDebugConsumer(ctx, k, re, inGroup)
	return err
}

func (st *Steps) debugInGroup(ctx context.Context, sink string) error {
	return st.startDebug(ctx, sink, true)
}
func (st *Steps) debugNoGroup(ctx context.Context, sink string) error {
	return st.startDebug(ctx, sink, false)
}

// sinkTopicOf is the topic the sink reads a traffic from at its site.
func (st *Steps) sinkTopicOf(ctx context.Context, tr *Traffic, db, site string) (string, error) {
	for _, at := range state(ctx).sc.Taps(tr) {
		if at.Kind == observe.KafkaTopic && at.Site == site {
			return at.Name, nil
		}
	}
	return "", fmt.Errorf("%s %s reaches no topic at %s", tr.Topic.CSC, tr.Topic.Name, site)
}

func (st *Steps) debugStole(ctx context.Context, db, site, within string) error {
	s := state(ctx)
	if s.debug == nil {
		return fmt.Errorf("no debugging consumer was started in this scenario")
	}
	// The step's window: samples the debugging consumer took are
	// missing for good, the rest have arrived.
	if err := st.pass(ctx, within); err != nil {
		return err
	}
	var lostTotal int
	var lines []string
	for _, tr := range s.sc.AllTraffic() {
		res, err := s.sc.Settle(ctx, tr, observe.Influx(site, db), 0)
		if err != nil {
			return err
		}
		topic, err := st.sinkTopicOf(ctx, tr, db, site)
		if err != nil {
			return err
		}
		read := s.debug.counts()[topic]
		lines = append(lines, fmt.Sprintf("%s: sent %d, in %s %d, read by the debugging consumer %d", topic, res.Sent, db, res.Delivered, read))
		if res.Lost > read {
			return fmt.Errorf("%s: %d samples missing from %s but the debugging consumer read only %d: lost elsewhere\n%s", topic, res.Lost, db, read, strings.Join(lines, "\n"))
		}
		lostTotal += res.Lost
	}
	sort.Strings(lines)
	if lostTotal == 0 {
		return fmt.Errorf("every sample reached %s: the debugging consumer took none\n%s", db, strings.Join(lines, "\n"))
	}
	st.Env.log.Info("debugging consumer stole samples", "missing", lostTotal, "detail", strings.Join(lines, "; "))
	return nil
}

func (st *Steps) debugReadAll(ctx context.Context, within string) error {
	s := state(ctx)
	if s.debug == nil {
		return fmt.Errorf("no debugging consumer was started in this scenario")
	}
	return wait.ForCondition("the debugging consumer reading every sample", func(ctx context.Context) error {
		counts := s.debug.counts()
		for _, tr := range s.sc.AllTraffic() {
			for _, at := range s.sc.Taps(tr) {
				topic, ok := at.Name, at.Kind == observe.KafkaTopic && at.Site == s.debug.site
				if ok && s.debug.re.MatchString(topic) && counts[topic] < len(tr.Writes()) {
					return fmt.Errorf("%s: read %d of %d", topic, counts[topic], len(tr.Writes()))
				}
			}
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
}

// startEventTraffic publishes AliECS-style run events to a site's topic
// until the stand goes down (the topic created first).
func (e *Env) startEventTraffic(ctx context.Context, t *TrafficSpec) error {
	p, err := aliecs.NewPublisher(aliecs.Config{Brokers: e.Sites[t.Site.Value].Brokers, Name: "teststand-ecs-background-" + t.Topic,
		Logger: e.log.With("component", "traffic protobuf "+t.Topic)})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("traffic protobuf %s@%s", t.Topic, t.Site.Value)
	stats := func() map[string]int64 { return map[string]int64{"published": p.Stats.Published.Load()} }
	return e.startComponent(ctx, name, "traffic", stats, nil, func(ctx context.Context, ready func()) error {
		defer p.Close()
		ready()
		run := uint32(0)
		every.Run(ctx, time.Duration(float64(time.Second)/t.Rate), func(ctx context.Context) {
			run++
			if _, err := p.Publish(ctx, t.Topic, aliecs.RunEvent("env-background", run, "RUNNING")); err != nil && ctx.Err() == nil {
				e.log.Warn("background protobuf traffic", "topic", t.Topic, "err", err)
			}
		})
		return nil
	}, nil)
}
