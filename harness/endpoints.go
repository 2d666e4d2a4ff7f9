// endpoints.go holds Endpoints: where a running stand's parts listen.

package harness

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/dds"
)

// Endpoints describes where the stand's parts listen, one per line:
// each site's Kafka, registry and InfluxDB, each DDS domain's port, and
// the metrics and admin endpoints of components run as binaries.
func (e *Env) Endpoints() string {
	var b strings.Builder
	for _, name := range e.Stand.SiteNames() {
		se := e.Sites[name]
		fmt.Fprintf(&b, "  site %s\n    kafka     %s\n", name, strings.Join(se.Brokers, ","))
		if se.ownURL != "" {
			fmt.Fprintf(&b, "    registry  %s\n", se.ownURL)
		}
		for _, alias := range slices.Sorted(maps.Keys(se.RemoteURLs)) {
			fmt.Fprintf(&b, "    registry  %s  (remote, %s's schemas)\n", se.RemoteURLs[alias], alias)
		}
		if se.InfluxURL != "" {
			fmt.Fprintf(&b, "    influxdb  %s", se.InfluxURL)
			if spec := e.Stand.Sites[name].InfluxDB; spec != nil {
				var dbs []string
				for _, d := range spec.Names() {
					dbs = append(dbs, e.Database(name, d))
				}
				kind := "databases"
				if spec.Major() == 2 {
					kind = "buckets"
				}
				fmt.Fprintf(&b, "  %s %s", kind, strings.Join(dbs, ", "))
			}
			switch {
			case e.sec != nil && (se.InfluxToken != "" || se.InfluxUser != ""):
				// A secured stand's credentials are the run's secrets.
				b.WriteString("  (authentication on: the run's credentials)")
			case se.InfluxToken != "" && !e.deployment():
				fmt.Fprintf(&b, "  org %s  token %s", se.InfluxOrg, se.InfluxToken)
			}
			b.WriteString("\n")
		}
	}
	domains := map[int]bool{}
	for _, p := range e.Stand.Producers {
		domains[p.Domain] = true
	}
	for _, d := range slices.Sorted(maps.Keys(domains)) {
		fmt.Fprintf(&b, "  dds domain %d  127.0.0.1:%d (TESTSTAND_DDS_BASE_PORT=%d)\n", d, dds.Port(e.DDSBasePort, d), e.DDSBasePort)
	}
	for _, n := range e.ComponentNames() {
		e.mu.Lock()
		c := e.components[n]
		e.mu.Unlock()
		line := fmt.Sprintf("  %s %s", c.kind, n)
		if c.metricsURL != "" {
			line += "  metrics " + c.metricsURL
		}
		if c.adminURL != "" {
			line += "  admin " + c.adminURL
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
