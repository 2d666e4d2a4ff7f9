package stand

import (
	"fmt"

	"github.com/lsst-ts/teststand/internal/yamlx"
)

// checkSecurity checks a secured stand: its settings, and that what it
// secures can take the run's secrets. The embedded backend's kfake and the
// components the harness runs in its own process take them; the binaries,
// Telegraf, MirrorMaker 2 and the process backend's Apache Kafka do not
// take a stand's secrets, so a secured stand refuses them rather than run
// them open.
func (s *Stand) checkSecurity() error {
	sec := s.Security
	if sec == nil {
		return nil
	}
	at := func(p ...any) string { return s.where(append(yamlx.Path{"security"}, p...)) }
	switch sec.Kafka {
	case "", "sasl_ssl", "sasl_plaintext":
	default:
		return fmt.Errorf("%s: security.kafka: want sasl_ssl or sasl_plaintext, got %q", at("kafka"), sec.Kafka)
	}
	switch sec.Registry {
	case "", "basic", "none":
	default:
		return fmt.Errorf("%s: security.registry: want basic or none, got %q", at("registry"), sec.Registry)
	}
	if s.Backend != Embedded {
		return fmt.Errorf("%s: security: the %s backend's Kafka takes no stand secrets; a secured stand runs on backend embedded", at(), s.Backend)
	}
	inProcess := func(r RunMode) bool { return r == "" || r == InProcess }
	for i, p := range s.Producers {
		if !inProcess(p.Run) {
			return fmt.Errorf("%s: producer %s: run %s takes no stand secrets; on a secured stand it runs in process", s.where(yamlx.Path{"producers", i, "run"}), p.Name, p.Run)
		}
	}
	for i, k := range s.Sinks {
		if !inProcess(k.Run) {
			return fmt.Errorf("%s: sink %s: run %s takes no stand secrets; on a secured stand it runs in process", s.where(yamlx.Path{"sinks", i, "run"}), k.Name, k.Run)
		}
	}
	for i, r := range s.RestProxies {
		if !inProcess(r.Run) {
			return fmt.Errorf("%s: REST proxy %s: run %s takes no stand secrets; on a secured stand it runs in process", s.where(yamlx.Path{"rest_proxies", i, "run"}), r.Name, r.Run)
		}
	}
	return nil
}
