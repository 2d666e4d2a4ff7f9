package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

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
	planned, err := prof.Resolve(st.Env.Stand.Loaded)
	if err != nil {
		return err
	}
	served := st.Env.Stand.ServedOn(dom)
	var specs []PublishSpec
	for _, pl := range planned {
		w := pl.Writer
		for _, index := range served.Indices(w.Topic.CSC, w.Index, pl.Listed) {
			specs = append(specs, PublishSpec{CSC: w.Topic.CSC, Index: index, Topic: w.Topic.Name, RateHz: w.RateHz, Duration: seconds(dur), Domain: dom, Burst: w.Burst, Jitter: w.Jitter})
		}
	}
	if len(specs) == 0 {
		return fmt.Errorf("profile %s gives no topic of a CSC served on domain %d", name, dom)
	}
	return st.publishAll(ctx, specs)
}

// replayRecording replays a mocksal recording on a domain at a speed: one
// traffic per recorded writer (CSC, index, topic), all with one new
// private_origin, so every recorded sample is checked like generated ones.
func (st *Steps) replayRecording(ctx context.Context, name, speed, domain string) error {
	dom, _ := strconv.Atoi(domain)
	x, _ := strconv.ParseFloat(speed, 64)
	path := name
	if !filepath.IsAbs(path) {
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(filepath.Dir(st.Env.Stand.File), name)
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
	sc := state(ctx).sc
	origin := origins.Add(1)
	byKey := map[mocksal.RecordedTopic]*Traffic{}
	var all []*Traffic
	for _, w := range writers {
		tr, err := sc.Start(PublishSpec{CSC: w.CSC, Index: w.Index, Topic: w.Topic, Domain: dom, Origin: origin})
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", path, w.CSC, w.Topic, err)
		}
		w.Samples = 0
		byKey[w] = tr
		all = append(all, tr)
	}
	if f, err = open(); err != nil {
		return err
	}
	defer f.Close()
	_, err = mocksal.Replay(ctx, st.Env.Bus, st.Env.Stand.Loaded, f, mocksal.ReplayConfig{Speed: x, Domain: dom, Origin: origin}, func(w mocksal.Write) {
		if tr := byKey[mocksal.RecordedTopic{CSC: w.CSC, Index: w.Index, Topic: w.Topic}]; tr != nil {
			tr.Record(w)
		}
	})
	for _, tr := range all {
		tr.Finish(err)
	}
	return err
}
