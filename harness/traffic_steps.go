package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/mocksal"
)

// publishTable starts every row of a table (CSC, topic, rate, duration)
// at once on one domain and waits until all were written.
func (st *Steps) publishTable(ctx context.Context, domain string, table *godog.Table) error {
	dom, _ := strconv.Atoi(domain)
	if table == nil || len(table.Rows) < 2 {
		return errors.New("the table needs a header (CSC | topic | rate | duration) and at least one row")
	}
	col := map[string]int{}
	for i, c := range table.Rows[0].Cells {
		col[strings.ToLower(strings.TrimSpace(c.Value))] = i
	}
	for _, want := range []string{"csc", "topic", "rate", "duration"} {
		if _, ok := col[want]; !ok {
			return fmt.Errorf("the table has no %q column (want CSC | topic | rate | duration)", want)
		}
	}
	var specs []PublishSpec
	for r, row := range table.Rows[1:] {
		cell := func(name string) string { return strings.TrimSpace(row.Cells[col[name]].Value) }
		name, index, _ := strings.Cut(cell("csc"), ":")
		hz, err1 := strconv.ParseFloat(cell("rate"), 64)
		dur, err2 := strconv.ParseFloat(strings.TrimSuffix(cell("duration"), "s"), 64)
		if err1 != nil || err2 != nil || hz <= 0 || dur <= 0 {
			return fmt.Errorf("row %d: rate %q and duration %q must be positive numbers (Hz, s)", r+1, cell("rate"), cell("duration"))
		}
		specs = append(specs, PublishSpec{CSC: name, Index: parseIndex(index), Topic: cell("topic"), RateHz: hz, Duration: seconds(strconv.FormatFloat(dur, 'f', -1, 64)), Domain: dom})
	}
	return st.publishAll(ctx, specs)
}

// publishAll starts every writer, then waits for all of them.
func (st *Steps) publishAll(ctx context.Context, specs []PublishSpec) error {
	started, err := state(ctx).sc.PublishAllAsync(specs)
	if err != nil {
		return err
	}
	var errs []error
	for _, tr := range started {
		if err := tr.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", tr.Topic.CSC, tr.Topic.Name, err))
		}
	}
	return errors.Join(errs...)
}

// replayProfile writes, for a duration, every topic a traffic profile
// gives a rate to, for each CSC a producer on the domain serves (at the
// producer's index for an indexed CSC), and waits until all were written.
func (st *Steps) replayProfile(ctx context.Context, name, dur, domain string) error {
	dom, _ := strconv.Atoi(domain)
	prof, err := mocksal.LoadProfile(st.Env.Stand.ProfilePath(name))
	if err != nil {
		return err
	}
	specs, err := st.Env.ProfileSpecs(prof, seconds(dur), dom, 1)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("profile %s gives no topic of a CSC served on domain %d", name, dom)
	}
	return st.publishAll(ctx, specs)
}

// replayRecording replays a recording (one this scenario made, a path,
// or a path relative to the stand) on a domain at a speed: one traffic
// per recorded writer (CSC, index, topic), each CSC index with a new
// private_origin of its own (a process per CSC, as SAL runs them), so
// every recorded sample is checked like generated ones. The replay must
// write every sample the recording holds.
func (st *Steps) replayRecording(ctx context.Context, name, speed, domain string) error {
	dom, _ := strconv.Atoi(domain)
	x, _ := strconv.ParseFloat(speed, 64)
	s := state(ctx)
	path, ok := s.recordings[name]
	if !ok {
		path = name
		if !filepath.IsAbs(path) {
			if _, err := os.Stat(path); err != nil {
				path = filepath.Join(filepath.Dir(st.Env.Stand.File), name)
			}
		}
	}
	open := func() (*os.File, error) { return os.Open(path) }
	f, err := open()
	if err != nil {
		return err
	}
	writers, err := mocksal.RecordingTopics(st.Env.Stand.Loaded, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	type process struct {
		csc   string
		index int32
	}
	originOf := map[process]int32{}
	for _, w := range writers {
		if p := (process{w.CSC, w.Index}); originOf[p] == 0 {
			originOf[p] = origins.Add(1)
		}
	}
	byKey := map[mocksal.RecordedTopic]*Traffic{}
	var all []*Traffic
	for _, w := range writers {
		tr, err := s.sc.Start(PublishSpec{CSC: w.CSC, Index: w.Index, Topic: w.Topic, Domain: dom, Origin: originOf[process{w.CSC, w.Index}]})
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", path, w.CSC, w.Topic, err)
		}
		k := w
		k.Samples = 0
		byKey[k] = tr
		all = append(all, tr)
	}
	if f, err = open(); err != nil {
		return err
	}
	defer f.Close()
	cfg := mocksal.ReplayConfig{Speed: x, Domain: dom, OriginOf: func(csc string, index int32) int32 { return originOf[process{csc, index}] }}
	_, err = mocksal.Replay(ctx, st.Env.Bus, st.Env.Stand.Loaded, f, cfg, func(w mocksal.Write) {
		if tr := byKey[mocksal.RecordedTopic{CSC: w.CSC, Index: w.Index, Topic: w.Topic}]; tr != nil {
			tr.Record(w)
		}
	})
	for _, tr := range all {
		tr.Finish(err)
	}
	if err != nil {
		return err
	}
	if s.replayed == nil {
		s.replayed = map[string][]*Traffic{}
	}
	s.replayed[name] = all
	// The ledger is what the replay wrote: a replay that left a sample
	// out would go unnoticed downstream.
	var short []string
	for _, w := range writers {
		k := w
		k.Samples = 0
		if n := len(byKey[k].Writes()); n != w.Samples {
			short = append(short, fmt.Sprintf("%s: replayed %d of %d", w, n, w.Samples))
		}
	}
	if len(short) > 0 {
		return fmt.Errorf("%s: the replay did not write every recorded sample: %s", path, strings.Join(short, "; "))
	}
	return nil
}

// recordTopics records, from a site's Kafka, the topics a Java regex
// names, from the scenario's start to now, once every sample the
// scenario wrote is there; the recording is the scenario's, by name.
func (st *Steps) recordTopics(ctx context.Context, pattern, site, name string) error {
	s := state(ctx)
	path, err := s.recordingPath(name)
	if err != nil {
		return err
	}
	stats, err := s.sc.RecordTraffic(ctx, site, pattern, s.started, path, seconds("60"))
	if err != nil {
		return fmt.Errorf("recording %q from %s: %w", name, site, err)
	}
	s.recordings[name] = path
	st.Env.log.Info("recorded", "recording", name, "samples", stats.Samples, "topics", len(stats.Topics))
	return nil
}

// recordingHolds checks a recording of the scenario against what the
// scenario wrote before it was made.
func (st *Steps) recordingHolds(ctx context.Context, name string) error {
	s := state(ctx)
	path, ok := s.recordings[name]
	if !ok {
		return fmt.Errorf("no recording %q was made in this scenario", name)
	}
	var written []*Traffic
	for _, tr := range s.sc.AllTraffic() {
		if !slices.Contains(s.replayed[name], tr) {
			written = append(written, tr)
		}
	}
	if len(written) == 0 {
		return errors.New("no traffic was published in this scenario")
	}
	diffs, n, err := st.Env.RecordingHolds(path, written, 10)
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		return fmt.Errorf("recording %q differs from what was written:\n  %s", name, strings.Join(diffs, "\n  "))
	}
	if n == 0 {
		return fmt.Errorf("recording %q holds no sample written in this scenario", name)
	}
	return nil
}

// replayedDelivered checks every writer of a replay of a recording: in
// each Kafka topic at the site its samples go to, exactly once; in the
// site's database, every one; and every field of every point as written.
func (st *Steps) replayedDelivered(ctx context.Context, name, db, site, within string) error {
	s := state(ctx)
	all := s.replayed[name]
	if len(all) == 0 {
		return fmt.Errorf("recording %q was not replayed in this scenario", name)
	}
	var errs []error
	for _, tr := range all {
		for _, at := range s.sc.Taps(tr) {
			if at.Kind == observe.KafkaTopic && at.Site == site {
				errs = append(errs, st.exactlyOnce(ctx, s, tr, at, within))
			}
		}
		where := observe.Influx(site, db)
		s.lastTarget[tr] = where
		if err := st.exactlyOnce(ctx, s, tr, where, within); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, st.fieldsAt(ctx, s, tr, where, db, site))
	}
	return errors.Join(errs...)
}
