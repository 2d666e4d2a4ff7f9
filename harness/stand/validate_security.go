package stand

import (
	"fmt"

	"github.com/lsst-ts/teststand/internal/yamlx"
)

// checkSecurity checks a secured stand: its settings, and that what it
// secures can take the run's secrets. kfake (backend embedded) and
// Apache Kafka (backend process) take them, and so does every component
// the harness runs in process or as a host process: the project's
// binaries (their passwords as @FILE), Telegraf and MirrorMaker 2 (in
// files only their owner reads). Containers and an external deployment
// do not take a run's secrets, and a deployment's own telegraf.conf
// brings its own credentials: a secured stand refuses them rather than
// run them open.
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
	if s.Backend != Embedded && s.Backend != Process {
		return fmt.Errorf("%s: security: the %s backend takes no stand secrets; a secured stand runs on backend embedded or process", at(), s.Backend)
	}
	refused := func(r RunMode) bool { return r == Container || r == ExternalRun }
	for i, p := range s.Producers {
		if refused(p.Run) {
			return fmt.Errorf("%s: producer %s: run %s takes no stand secrets; on a secured stand it runs in process or as a binary", s.where(yamlx.Path{"producers", i, "run"}), p.Name, p.Run)
		}
	}
	for i, k := range s.Sinks {
		if refused(k.Run) {
			return fmt.Errorf("%s: sink %s: run %s takes no stand secrets; on a secured stand it runs in process, as a binary or as Telegraf", s.where(yamlx.Path{"sinks", i, "run"}), k.Name, k.Run)
		}
		if d, _ := k.Deployed(); d != nil {
			return fmt.Errorf("%s: sink %s: the deployment's own telegraf.conf brings its own Kafka credentials, not the run's; a secured stand runs Telegraf configured from the sink's rules", s.where(yamlx.Path{"sinks", i}), k.Name)
		}
	}
	for i, r := range s.RestProxies {
		if refused(r.Run) {
			return fmt.Errorf("%s: REST proxy %s: run %s takes no stand secrets; on a secured stand it runs in process or as a binary", s.where(yamlx.Path{"rest_proxies", i, "run"}), r.Name, r.Run)
		}
	}
	for i, f := range s.Replication {
		if refused(f.Run) {
			return fmt.Errorf("%s: flow %s: run %s takes no stand secrets", s.where(yamlx.Path{"replication", i, "run"}), f.Name, f.Run)
		}
	}
	return nil
}
