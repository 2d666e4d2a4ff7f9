package stand

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/sink"
)

// checkSinks checks the sinks: names, sites with an InfluxDB and a
// registry, rules and their databases, run modes; it compiles the rules.
func (s *Stand) checkSinks(seen map[string]bool) error {
	for i, k := range s.Sinks {
		what := "sink " + strconv.Quote(k.Name)
		if seen[k.Name] {
			return fmt.Errorf("%s: duplicate component name %q", s.where(yamlx.Path{"sinks", i, "name"}), k.Name)
		}
		seen[k.Name] = true
		if err := s.checkSiteRef(k.Site, what, "sinks", i); err != nil {
			return err
		}
		st := s.Sites[k.Site.Value]
		if st.InfluxDB == nil {
			return fmt.Errorf("%s: %s: site %q has no influxdb", s.at(k.Site), what, k.Site.Value)
		}
		if st.Registry == nil && len(st.RemoteRegistries) == 0 {
			return fmt.Errorf("%s: %s: site %q has no registry", s.at(k.Site), what, k.Site.Value)
		}
		if len(k.Rules[0].Topics) == 0 {
			return fmt.Errorf("%s: %s: no topics listed", s.where(yamlx.Path{"sinks", i, "topics"}), what)
		}
		rules := make([]sink.Rule, len(k.Rules))
		for j, spec := range k.Rules {
			r, err := spec.Rule(j)
			if err != nil { // at the rule; at the sink for its topics and database
				return fmt.Errorf("%s: %s: %w", s.where(yamlx.Path{"sinks", i, "rules", j}), what, err)
			}
			rules[j] = r
		}
		for _, r := range rules {
			if !slices.Contains(st.InfluxDB.Names(), r.Database) {
				kind := "databases"
				if st.InfluxDB.Major() == 2 {
					kind = "buckets"
				}
				return fmt.Errorf("%s: %s: database %q is not among site %q's %s %v", s.at(k.Site), what, r.Database, k.Site.Value, kind, st.InfluxDB.Names())
			}
			if r.RetentionPolicy != "" && st.InfluxDB.Major() == 2 {
				return fmt.Errorf("%s: %s: retention_policy %q: InfluxDB 2 has none; a bucket has its own retention", s.at(k.Site), what, r.RetentionPolicy)
			}
		}
		k.rules = rules
		if k.Offset != "" && k.Offset != "oldest" && k.Offset != "newest" {
			return fmt.Errorf("%s: %s: offset %q: want oldest or newest", s.where(yamlx.Path{"sinks", i, "offset"}), what, k.Offset)
		}
		if err := checkRun(SinkKind, k.Run, s.Backend); err != nil {
			return fmt.Errorf("%s: %s: %w", s.at(k.Site), what, err)
		}
	}
	return nil
}
