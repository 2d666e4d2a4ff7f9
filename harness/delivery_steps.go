package harness

// Steps that judge delivery: every sample at a target against the ledger,
// renamed topics, verdicts, latency bounds, topics present or absent, and
// points no writer wrote.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/reports"
)

func (st *Steps) traffic(ctx context.Context, csc, index, topic string) (*Traffic, error) {
	tr := state(ctx).sc.Traffic(csc, parseIndex(index), topic)
	if tr == nil {
		return nil, fmt.Errorf("no traffic of %s %q was published in this scenario", csc, topic)
	}
	return tr, nil
}

// target finds the traffic a step checks and makes database db at site
// its latency target.
func (st *Steps) target(ctx context.Context, csc, index, topic, db, site string) (*scenarioState, *Traffic, Target, error) {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return nil, nil, Target{}, err
	}
	where := observe.Influx(site, db)
	s := state(ctx)
	s.lastTarget[tr] = where
	return s, tr, where, nil
}

func (st *Steps) deliveredExactlyOnce(ctx context.Context, csc, index, topic, db, site, within string) error {
	s, tr, where, err := st.target(ctx, csc, index, topic, db, site)
	if err != nil {
		return err
	}
	return st.exactlyOnce(ctx, s, tr, where, within)
}

// exactlyOnce waits up to within for every sample of tr at where and
// fails unless each arrived once.
func (st *Steps) exactlyOnce(ctx context.Context, s *scenarioState, tr *Traffic, where Target, within string) error {
	res, err := s.sc.WaitDelivered(ctx, tr, where, seconds(within))
	if err != nil {
		return err
	}
	if res.Lost > 0 || res.Duplicated > 0 {
		err := fmt.Errorf("%s %s at %s: %s: sent %d, delivered %d, lost %d (seqNums %s), duplicated %d",
			tr.Identity(), tr.Topic.Name, where, reports.Verdict(res), res.Sent, res.Delivered, res.Lost, seqList(res.Missing), res.Duplicated)
		if terr := s.sc.TapError(tr, where); terr != nil {
			err = fmt.Errorf("%w; the tap itself failed: %w", err, terr)
		}
		return err
	}
	return nil
}

// allDelivered checks every traffic of the scenario in a site's database,
// all within one time bound, and names each that failed: lost, or
// duplicated unless how is "at least".
func (st *Steps) allDelivered(ctx context.Context, db, site, how, within string) error {
	dupsAllowed := how == "at least"
	s := state(ctx)
	all := s.sc.AllTraffic()
	if len(all) == 0 {
		return errors.New("no traffic was published in this scenario")
	}
	where := observe.Influx(site, db)
	deadline := time.Now().Add(seconds(within))
	var errs []error
	for _, tr := range all {
		s.lastTarget[tr] = where
		res, err := s.sc.WaitDelivered(ctx, tr, where, max(time.Until(deadline), 0))
		if err != nil {
			return err
		}
		if res.Lost > 0 || (res.Duplicated > 0 && !dupsAllowed) {
			errs = append(errs, fmt.Errorf("%s %s:%d at %s: %s: sent %d, delivered %d, lost %d (seqNums %s), duplicated %d",
				tr.Topic.CSC, tr.Topic.Name, tr.Index, where, reports.Verdict(res), res.Sent, res.Delivered, res.Lost, seqList(res.Missing), res.Duplicated))
		}
	}
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("and %d more", len(errs)-10))
	}
	return errors.Join(errs...)
}

func (st *Steps) inTopicExactlyOnce(ctx context.Context, csc, index, topic, kafkaTopic, site, within string) error {
	return st.inTopic(ctx, csc, index, topic, kafkaTopic, site, within, false)
}

func (st *Steps) inTopicAtLeastOnce(ctx context.Context, csc, index, topic, kafkaTopic, site, within string) error {
	return st.inTopic(ctx, csc, index, topic, kafkaTopic, site, within, true)
}

// inTopic checks a traffic's samples in a Kafka topic at a site, the
// topic becoming the traffic's latency target.
func (st *Steps) inTopic(ctx context.Context, csc, index, topic, kafkaTopic, site, within string, dupsAllowed bool) error {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return err
	}
	s := state(ctx)
	where := observe.Kafka(site, kafkaTopic)
	s.lastTarget[tr] = where
	res, err := s.sc.WaitDelivered(ctx, tr, where, seconds(within))
	if err != nil {
		return err
	}
	if res.Lost > 0 || (res.Duplicated > 0 && !dupsAllowed) {
		return fmt.Errorf("%s %s at %s: %s: sent %d, delivered %d, lost %d (seqNums %s), duplicated %d",
			csc, topic, where, reports.Verdict(res), res.Sent, res.Delivered, res.Lost, seqList(res.Missing), res.Duplicated)
	}
	return nil
}

func (st *Steps) inTopicWithDuplicates(ctx context.Context, csc, index, topic, kafkaTopic, site, dups, within string) error {
	if err := st.inTopic(ctx, csc, index, topic, kafkaTopic, site, within, true); err != nil {
		return err
	}
	tr, _ := st.traffic(ctx, csc, index, topic)
	where := observe.Kafka(site, kafkaTopic)
	want, _ := strconv.Atoi(dups)
	// Copies made again after a restart arrive after the first ones.
	res, err := state(ctx).sc.VerdictWhen(ctx, tr, where, seconds(within), func(res reports.Topic) bool { return res.Duplicated >= want })
	if err != nil {
		return err
	}
	if res.Lost > 0 || res.Duplicated != want {
		return fmt.Errorf("%s %s at %s: lost %d, %d duplicates, want none lost and %d duplicates (sent %d, delivered %d)",
			csc, topic, where, res.Lost, res.Duplicated, want, res.Sent, res.Delivered)
	}
	return nil
}

func (st *Steps) renamedExactlyOnce(ctx context.Context, site, pattern, within string) error {
	if !strings.Contains(pattern, "<topic>") {
		return fmt.Errorf("pattern %q has no <topic>", pattern)
	}
	s := state(ctx)
	all := s.sc.AllTraffic()
	if len(all) == 0 {
		return errors.New("no traffic was published in this scenario")
	}
	names, err := st.topicNames(ctx, site)
	if err != nil {
		return err
	}
	var errs []error
	for _, tr := range all {
		own := tr.Topic.KafkaTopic(st.subnameOf(tr))
		renamed := strings.ReplaceAll(pattern, "<topic>", own)
		if names[own] && own != renamed {
			errs = append(errs, fmt.Errorf("%s exists at %s under its own name", own, site))
		}
		index := ""
		if tr.Index != 0 {
			index = strconv.Itoa(int(tr.Index))
		}
		if err := st.inTopic(ctx, tr.Topic.CSC, index, tr.Topic.Name, renamed, site, within, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// subnameOf is the Kafka subname of the producer serving a traffic's CSC.
func (st *Steps) subnameOf(tr *Traffic) string {
	for _, p := range st.Env.Stand.Producers {
		for _, c := range p.CSCs {
			if name, _, _ := strings.Cut(c.Value, ":"); name == tr.Topic.CSC && p.Domain == tr.Domain {
				return p.Subname
			}
		}
	}
	return ""
}

func (st *Steps) noUnexpectedPoints(ctx context.Context, db, site string) error {
	var posted []string
	for topic := range state(ctx).posted {
		posted = append(posted, topic)
	}
	odd, n, err := st.Env.UnexpectedPoints(ctx, site, db, posted, 10)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("database %s at %s holds %d points no writer of the stand wrote, among them:\n  %s", db, site, n, strings.Join(odd, "\n  "))
	}
	return nil
}

func (st *Steps) reportedAs(ctx context.Context, csc, index, topic, verdict, db, site, after string) error {
	s, tr, where, err := st.target(ctx, csc, index, topic, db, site)
	if err != nil {
		return err
	}
	res, err := s.sc.Settle(ctx, tr, where, seconds(after))
	if err != nil {
		return err
	}
	if got := reports.Verdict(res); got != verdict {
		return fmt.Errorf("%s %s at %s: verdict %q, want %q (sent %d, delivered %d, lost %d)", csc, topic, where, got, verdict, res.Sent, res.Delivered, res.Lost)
	}
	return nil
}

func (st *Steps) topicNames(ctx context.Context, site string) (map[string]bool, error) {
	names, err := st.Env.topics(ctx, site)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, t := range names {
		out[t] = true
	}
	return out, nil
}

func (st *Steps) topicExists(ctx context.Context, topic, site string) error {
	names, err := st.topicNames(ctx, site)
	if err != nil {
		return err
	}
	if !names[topic] {
		return fmt.Errorf("topic %q does not exist at %s (%d topics there)", topic, site, len(names))
	}
	return nil
}

func (st *Steps) topicDoesNotExist(ctx context.Context, topic, site string) error {
	names, err := st.topicNames(ctx, site)
	if err != nil {
		return err
	}
	if names[topic] {
		return fmt.Errorf("topic %q exists at %s", topic, site)
	}
	return nil
}

func (st *Steps) latencyBound(ctx context.Context, pct, csc, index, topic, side, bound, unit string) error {
	return st.hopLatencyBound(ctx, pct, csc, index, topic, "end-to-end", side, bound, unit)
}

// hopLatencyBound checks a percentile of one hop's latency (or the
// end-to-end one) on the path to the traffic's last checked target.
func (st *Steps) hopLatencyBound(ctx context.Context, pct, csc, index, topic, hop, side, bound, unit string) error {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return err
	}
	s := state(ctx)
	where, ok := s.lastTarget[tr]
	if !ok {
		return errors.New("check delivery first: latency is measured to the last checked target")
	}
	res := s.sc.Verdict(tr, where)
	var h *reports.Hop
	var names []string
	for i := range res.Hops {
		names = append(names, res.Hops[i].Name)
		if res.Hops[i].Name == hop {
			h = &res.Hops[i]
		}
	}
	if h == nil {
		return fmt.Errorf("no hop %q on the way to %s (hops: %s)", hop, where, strings.Join(names, ", "))
	}
	if h.Count == 0 {
		return fmt.Errorf("no latency measured for %s %s at %s", csc, topic, hop)
	}
	limit, _ := strconv.ParseFloat(bound, 64)
	if unit == "s" {
		limit *= 1000
	}
	got := map[string]float64{"50": h.P50, "90": h.P90, "99": h.P99, "99.9": h.P999}[pct]
	if (side == "below" && got >= limit) || (side == "above" && got <= limit) {
		return fmt.Errorf("%s latency p%s of %s %s is %.1f ms, not %s %.1f ms", hop, pct, csc, topic, got, side, limit)
	}
	return nil
}

func seqList(seqs []int64) string {
	if len(seqs) == 0 {
		return "none"
	}
	parts := make([]string, 0, min(len(seqs), 20))
	for i, s := range seqs {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("… %d more", len(seqs)-20))
			break
		}
		parts = append(parts, strconv.FormatInt(s, 10))
	}
	return strings.Join(parts, ",")
}
