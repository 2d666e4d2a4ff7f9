package stand

import (
	"fmt"
	"strconv"

	"github.com/lsst-ts/teststand/replication"
)

// checkFlows checks the replication flows: sites, run modes, topic
// patterns.
func (s *Stand) checkFlows() error {
	for i, f := range s.Replication {
		what := "replication flow " + strconv.Quote(f.Name)
		if err := s.checkSiteRef(f.Source, what+" source", "replication", i); err != nil {
			return err
		}
		if err := s.checkSiteRef(f.Target, what+" target", "replication", i); err != nil {
			return err
		}
		if f.Source.Value == f.Target.Value {
			return fmt.Errorf("%s: %s: source and target are the same site", s.at(f.Target), what)
		}
		if err := checkRun(FlowKind, f.Run, s.Backend); err != nil {
			return fmt.Errorf("%s: %s: %w", s.at(f.Source), what, err)
		}
		for _, re := range append(append([]string{}, f.Topics...), f.Exclude...) {
			if _, err := replication.CompileTopicPattern(re); err != nil {
				return fmt.Errorf("%s: %s: topic pattern %q: %w", s.at(f.Source), what, re, err)
			}
		}
	}
	return nil
}

// checkFaults checks the standing faults: each slows a link a flow of
// the stand's own replicator runs over.
func (s *Stand) checkFaults() error {
	for i, f := range s.Faults {
		if err := s.checkSiteRef(f.Link.From, "fault link from", "faults", i, "link"); err != nil {
			return err
		}
		if err := s.checkSiteRef(f.Link.To, "fault link to", "faults", i, "link"); err != nil {
			return err
		}
		found := false
		for _, fl := range s.Replication {
			found = found || (fl.Source.Value == f.Link.From.Value && fl.Target.Value == f.Link.To.Value && fl.Run != ExternalRun && fl.Run != MirrorMaker2)
		}
		if !found {
			return fmt.Errorf("%s: fault on the link %s->%s: no replication flow this stand can slow runs over it (the stand's own replicator: not external, not mirrormaker2)", s.at(f.Link.From), f.Link.From.Value, f.Link.To.Value)
		}
	}
	return nil
}
