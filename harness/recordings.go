// recordings.go holds what scenarios do with recordings: capture what a
// scenario wrote from a site's Kafka (as `stand record` does), and check
// a recording against the ledgers of what was written.

package harness

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"github.com/lsst-ts/teststand/harness/capture"
	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/internal/atomicfile"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/replication"
)

// replicaSeparator is the separator of the first flow into site (how its
// replicas are named), "." when none says.
func (e *Env) replicaSeparator(site string) string {
	for _, f := range e.Stand.Replication {
		if f.Target.Value == site {
			return cmp.Or(f.Separator, ".")
		}
	}
	return "."
}

// RecordTraffic waits until every sample the scenario wrote is in each
// topic of site that pattern (a Java regex on whole names) names and
// the sample goes to, then records those topics' records stamped from
// since to now into path, as `stand record` would from the site: its
// Kafka, through its registries.
func (s *Scenario) RecordTraffic(ctx context.Context, site, pattern string, since time.Time, path string, timeout time.Duration) (capture.Stats, error) {
	se := s.env.Sites[site]
	if se == nil {
		return capture.Stats{}, fmt.Errorf("no site %q", site)
	}
	re, err := replication.CompileTopicPattern(pattern)
	if err != nil {
		return capture.Stats{}, fmt.Errorf("topic pattern: %w", err)
	}
	for _, tr := range s.AllTraffic() {
		for _, at := range s.Taps(tr) {
			if at.Kind != observe.KafkaTopic || at.Site != site || !re.MatchString(at.Name) {
				continue
			}
			res, err := s.WaitDelivered(ctx, tr, at, timeout)
			if err != nil {
				return capture.Stats{}, err
			}
			if res.Lost > 0 {
				return capture.Stats{}, fmt.Errorf("%s.%s: %d of %d samples never reached %s: nothing to record them from", tr.Topic.CSC, tr.Topic.Name, res.Lost, res.Sent, at)
			}
		}
	}
	var st capture.Stats
	err = atomicfile.Write(path, func(w io.Writer) error {
		st, err = capture.Kafka(ctx, capture.KafkaConfig{
			Brokers: se.Brokers, Topics: pattern, Registry: se.ownURL, Remotes: se.RemoteURLs, Separator: s.env.replicaSeparator(site),
			From: since, To: time.Now().Add(time.Millisecond), Logger: s.env.log,
		}, w)
		return err
	})
	return st, err
}

// RecordingHolds checks the recording at path against the ledgers of
// traffic: every sample written is in it exactly once, each field with
// the value written (but private_rcvStamp, private_efdStamp and
// private_kafkaStamp, which the reader and the producer set). Samples of
// other writers (other origins) are left alone. It returns a description
// of each difference (at most limit) and how many samples it compared.
func (e *Env) RecordingHolds(path string, traffic []*Traffic, limit int) ([]string, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	type writer struct {
		csc, topic    string
		index, origin int32
	}
	ledgers := map[writer]map[int32]mocksal.Write{}
	seen := map[*Traffic]map[int32]bool{}
	byWriter := map[writer]*Traffic{}
	for _, tr := range traffic {
		k := writer{tr.Topic.CSC, tr.Topic.Name, tr.Index, tr.Origin}
		if !tr.Topic.Indexed {
			k.index = 0
		}
		ledgers[k], byWriter[k], seen[tr] = map[int32]mocksal.Write{}, tr, map[int32]bool{}
		for _, w := range tr.Writes() {
			ledgers[k][w.SeqNum] = w
		}
	}
	var diffs []string
	add := func(format string, a ...any) {
		if len(diffs) < limit {
			diffs = append(diffs, fmt.Sprintf(format, a...))
		}
	}
	compared := 0
	err = mocksal.ReadRecording(e.Stand.Loaded, bytes.NewReader(data), func(rs mocksal.RecordedSample) error {
		smp := rs.Sample
		idx, _ := smp.Get("salIndex").(int32)
		origin, _ := smp.Get("private_origin").(int32)
		seq, _ := smp.Get("private_seqNum").(int32)
		k := writer{smp.Topic.CSC, smp.Topic.Name, idx, origin}
		ledger, ok := ledgers[k]
		if !ok {
			return nil // another writer's
		}
		tr := byWriter[k]
		w, ok := ledger[seq]
		switch {
		case !ok:
			add("line %d: %s seqNum %d was not written", rs.Line, tr.Identity()+"."+tr.Topic.Name, seq)
			return nil
		case seen[tr][seq]:
			add("line %d: %s seqNum %d recorded twice", rs.Line, tr.Identity()+"."+tr.Topic.Name, seq)
			return nil
		}
		seen[tr][seq] = true
		compared++
		for i, f := range smp.Topic.Fields {
			if producerFields[f.Name] || f.Name == "private_efdStamp" {
				continue
			}
			if !reflect.DeepEqual(smp.Values[i], w.Values[i]) {
				add("line %d: %s seqNum %d: %s is %v, written %v", rs.Line, tr.Identity()+"."+tr.Topic.Name, seq, f.Name, smp.Values[i], w.Values[i])
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, tr := range traffic {
		var missing []int64
		for _, w := range tr.Writes() {
			if !seen[tr][w.SeqNum] {
				missing = append(missing, int64(w.SeqNum))
			}
		}
		if len(missing) > 0 {
			add("%s.%s: %d of %d samples written are not in the recording (seqNums %s)", tr.Identity(), tr.Topic.Name, len(missing), len(tr.Writes()), seqList(missing))
		}
	}
	return diffs, compared, nil
}
