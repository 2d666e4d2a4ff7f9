package stand

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/yamlx"
)

// validate checks the decoded stand, concern by concern (each in its
// own file), and resolves what the checks establish (sink registries).
func (s *Stand) validate() error {
	seen := map[string]bool{} // component names, unique across kinds
	for _, check := range []func() error{
		s.checkBackend,
		s.checkDDS,
		s.checkSites,
		func() error { return s.checkProducers(seen) },
		func() error { return s.checkWriters(seen) },
		s.checkFlows,
		func() error { return s.checkSinks(seen) },
		s.checkFaults,
		s.checkSecurity,
		func() error { return s.checkRestProxies(seen) },
		func() error { return s.checkSalTransforms(seen) },
		s.checkTraffic,
		func() error { _, err := s.flowGraph(); return err }, // compiled once, read by every scenario
		s.checkRegistries,
		s.checkSharedStorage,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return s.resolveSinkRegistries()
}

// checkBackend checks the backend and the containers block it allows.
func (s *Stand) checkBackend() error {
	containers := s.Backend == Containers
	if !s.Backend.known() {
		at := s.File // a backend given on the command line
		if n, ok := yamlx.Lookup(s.tree, yamlx.Path{"backend"}); ok && n.Value == string(s.Backend) {
			at = s.where(yamlx.Path{"backend"})
		}
		return fmt.Errorf("%s: backend %q: want %s", at, s.Backend, orList(backends))
	}
	if s.Containers != nil && !containers {
		return fmt.Errorf("%s: containers: is for the containers backend (backend %s)", s.where(yamlx.Path{"containers"}), s.Backend)
	}
	if s.Containers != nil {
		for svc := range s.Containers.Images {
			if !slices.Contains([]string{"kafka", "registry", "influxdb", "components"}, svc) {
				return fmt.Errorf("%s: containers: images: %q: want kafka, registry, influxdb or components", s.where(yamlx.Path{"containers", "images", svc}), svc)
			}
		}
	}
	return nil
}

// checkDDS checks the DDS transport: one this program was built with,
// on a backend whose components can carry it.
func (s *Stand) checkDDS() error {
	at := s.File // a transport given on the command line
	if n, ok := yamlx.Lookup(s.tree, yamlx.Path{"dds"}); ok && n.Value == s.DDS {
		at = s.where(yamlx.Path{"dds"})
	}
	switch s.DDS {
	case "", dds.Simulated:
		return nil
	case dds.CycloneDDS:
	default:
		return fmt.Errorf("%s: dds %q: want simulated or cyclonedds", at, s.DDS)
	}
	if err := dds.CheckTransport(s.DDS); err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	if s.Backend == Containers {
		return fmt.Errorf("%s: dds cyclonedds: the containers backend's component image is built without cgo; use backend embedded or process", at)
	}
	return nil
}

// checkSiteRef checks a reference to a site; path is where it belongs,
// for a reference that is missing.
func (s *Stand) checkSiteRef(r Ref, what string, path ...any) error {
	if r.Value == "" {
		at := s.at(r)
		if r.Line == 0 {
			at = s.where(path)
		}
		return fmt.Errorf("%s: %s: no site given", at, what)
	}
	if s.Sites[r.Value] == nil {
		return fmt.Errorf("%s: %s: unknown site %q (defined: %s)", s.at(r), what, r.Value, strings.Join(s.SiteNames(), ", "))
	}
	return nil
}

// checkSites checks each site against the backend: its Kafka, the
// addresses only an external stand gives, its InfluxDB.
func (s *Stand) checkSites() error {
	external, containers := s.Backend == External, s.Backend == Containers
	if len(s.Sites) == 0 {
		return fmt.Errorf("%s: no sites defined", s.where(yamlx.Path{"sites"}))
	}
	for _, name := range s.SiteNames() {
		st := s.Sites[name]
		kafka := yamlx.Path{"sites", name, "kafka"}
		if st == nil {
			return fmt.Errorf("%s: site %q is empty", s.where(yamlx.Path{"sites", name}), name)
		}
		for k := range st.Kafka.TopicConfigs {
			if s.Backend == Embedded && !slices.Contains(embeddedTopicConfigs, k) {
				return fmt.Errorf("%s: site %q: kafka topic_configs: %q: the embedded Kafka takes %s", s.where(kafka.With("topic_configs", k)), name, k, strings.Join(embeddedTopicConfigs, ", "))
			}
		}
		seenTopics := map[string]bool{}
		for i, t := range st.Kafka.Topics {
			at := s.where(kafka.With("topics", i))
			switch {
			case t.Name == "":
				return fmt.Errorf("%s: site %q: kafka topic %d has no name", at, name, i+1)
			case seenTopics[t.Name]:
				return fmt.Errorf("%s: site %q: kafka topic %q twice", at, name, t.Name)
			case t.Partitions < 0:
				return fmt.Errorf("%s: site %q: kafka topic %q: partitions %d", at, name, t.Name, t.Partitions)
			}
			seenTopics[t.Name] = true
			for k := range t.Config {
				if s.Backend == Embedded && !slices.Contains(embeddedTopicConfigs, k) {
					return fmt.Errorf("%s: site %q: kafka topic %q: config %q: the embedded Kafka takes %s", at, name, t.Name, k, strings.Join(embeddedTopicConfigs, ", "))
				}
			}
		}
		if r := st.Registry; r != nil && r.Compatibility != "" && !slices.Contains(compatibilityLevels, strings.ToUpper(r.Compatibility)) {
			return fmt.Errorf("%s: site %q: registry compatibility %q: want one of %s", s.where(yamlx.Path{"sites", name, "registry", "compatibility"}), name, r.Compatibility, strings.Join(compatibilityLevels, ", "))
		}
		if containers && st.Kafka.Brokers != 1 {
			return fmt.Errorf("%s: site %q: kafka brokers %d: the containers backend runs one combined KRaft node per site", s.where(kafka.With("brokers")), name, st.Kafka.Brokers)
		}
		if containers && st.InfluxDB != nil && st.InfluxDB.Major() == 2 {
			return fmt.Errorf("%s: site %q: influxdb version 2 is not run by the containers backend yet (use embedded or process)", s.where(yamlx.Path{"sites", name, "influxdb", "version"}), name)
		}
		if st.Kafka.ReplicationFactor > int16(st.Kafka.Brokers) {
			return fmt.Errorf("%s: site %q: kafka replication_factor %d exceeds its %d brokers", s.where(kafka.With("replication_factor")), name, st.Kafka.ReplicationFactor, st.Kafka.Brokers)
		}
		given := map[string]bool{"kafka.bootstrap": st.Kafka.Bootstrap != "",
			"registry.url": st.Registry != nil && st.Registry.URL != "", "influxdb.url": st.InfluxDB != nil && st.InfluxDB.URL != ""}
		need := map[string]bool{"kafka.bootstrap": true, "registry.url": st.Registry != nil, "influxdb.url": st.InfluxDB != nil}
		for _, key := range []string{"kafka.bootstrap", "registry.url", "influxdb.url"} {
			section, field, _ := strings.Cut(key, ".")
			switch {
			case external && need[key] && !given[key]:
				return fmt.Errorf("%s: site %q: the external backend needs %s (where the running one is)", s.where(yamlx.Path{"sites", name, section}), name, key)
			case !external && given[key]:
				return fmt.Errorf("%s: site %q: %s is for the external backend; the %s backend starts its own", s.where(yamlx.Path{"sites", name, section, field}), name, key, s.Backend)
			}
		}
		if st.InfluxDB != nil {
			if err := st.InfluxDB.check(s.where(yamlx.Path{"sites", name, "influxdb"}), name, external); err != nil {
				return err
			}
		}
	}
	return nil
}

// check validates the keys of one site's InfluxDB against its version
// and the backend; pos is where the site's influxdb is.
func (i *InfluxSpec) check(pos, site string, external bool) error {
	at := fmt.Sprintf("%s: site %q: influxdb", pos, site)
	switch i.Major() {
	case 1:
		switch {
		case len(i.Buckets) > 0:
			return fmt.Errorf("%s: buckets are InfluxDB 2's: a version 1 site lists databases (or set version: 2)", at)
		case i.Org != "" || i.Token != "":
			return fmt.Errorf("%s: org and token are InfluxDB 2's: a version 1 site has neither (or set version: 2)", at)
		case len(i.Databases) == 0:
			return fmt.Errorf("%s: no databases listed", at)
		}
	case 2:
		switch {
		case len(i.Databases) > 0:
			return fmt.Errorf("%s: version 2 has buckets, not databases", at)
		case len(i.Buckets) == 0:
			return fmt.Errorf("%s: no buckets listed", at)
		case external && (i.Org == "" || i.Token == ""):
			return fmt.Errorf("%s: the external backend needs org and token for InfluxDB 2 (token: ${INFLUXDB_TOKEN}, say)", at)
		case !external && (i.Org != "" || i.Token != ""):
			return fmt.Errorf("%s: org and token are for the external backend; a stand that starts InfluxDB 2 onboards it itself", at)
		}
	default:
		return fmt.Errorf("%s: version %d: want 1 or 2", at, i.Version)
	}
	return nil
}

// embeddedTopicConfigs are the topic configs the embedded Kafka (kfake)
// accepts.
var embeddedTopicConfigs = []string{"cleanup.policy", "compression.type", "delete.retention.ms", "max.message.bytes",
	"message.timestamp.type", "min.insync.replicas", "retention.bytes", "retention.ms", "segment.bytes", "segment.ms"}

// compatibilityLevels are a schema registry's compatibility levels.
var compatibilityLevels = []string{"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
