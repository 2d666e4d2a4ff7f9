package stand

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/internal/yamlx"
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

// checkFaults checks the standing faults: each on a link a flow of the
// stand runs over, or in front of a service a site has, on a backend
// whose parts talk over loopback, with a delay or a bandwidth.
func (s *Stand) checkFaults() error {
	for i, f := range s.Faults {
		if len(s.Faults) > 0 && s.Backend != Embedded && s.Backend != Process {
			return fmt.Errorf("%s: faults: the %s backend has no network fault layer (its parts do not talk over this host's loopback): network faults need backend embedded or process", s.where(yamlx.Path{"faults", i}), s.Backend)
		}
		if (f.Link != nil) == (f.Service != "") {
			return fmt.Errorf("%s: faults[%d]: want either link (from, to) or service and site", s.where(yamlx.Path{"faults", i}), i)
		}
		if f.Link != nil {
			if err := s.checkSiteRef(f.Link.From, "fault link from", "faults", i, "link"); err != nil {
				return err
			}
			if err := s.checkSiteRef(f.Link.To, "fault link to", "faults", i, "link"); err != nil {
				return err
			}
			found := false
			for _, fl := range s.Replication {
				found = found || (fl.Source.Value == f.Link.From.Value && fl.Target.Value == f.Link.To.Value && fl.Run != ExternalRun)
			}
			if !found {
				return fmt.Errorf("%s: fault on the link %s->%s: no replication flow of this stand runs over it", s.at(f.Link.From), f.Link.From.Value, f.Link.To.Value)
			}
			continue
		}
		if err := s.checkSiteRef(f.Site, "fault site", "faults", i, "site"); err != nil {
			return err
		}
		site := s.Sites[f.Site.Value]
		switch f.Service {
		case NetRegistry:
		case NetInflux:
			if site.InfluxDB == nil {
				return fmt.Errorf("%s: fault on the InfluxDB at %s: the site has no influxdb", s.at(f.Site), f.Site.Value)
			}
		case NetKafka:
			if outside := s.KafkaClientsOutside(f.Site.Value); len(outside) > 0 {
				return fmt.Errorf("%s: fault on the Kafka at %s: %s reach it outside this process; only in-process clients reach a site's Kafka through the fault layer", s.at(f.Site), f.Site.Value, strings.Join(outside, ", "))
			}
		default:
			return fmt.Errorf("%s: faults[%d].service: want registry, influxdb or kafka, got %q", s.where(yamlx.Path{"faults", i, "service"}), i, f.Service)
		}
	}
	return nil
}
