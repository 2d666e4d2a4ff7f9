package stand

import (
	"strings"
	"testing"
)

// twoSites is a summit and a USDF, each producing its own CSC, with room
// for the case's registries, flows and sinks.
const twoSites = `version: 1
sites:
  summit:
    kafka: {brokers: 1}
%s
  usdf:
    kafka: {brokers: 1}
    influxdb: {databases: [efd]}
%s
producers:
  - {name: p-summit, site: summit, domain: 0, cscs: [ATDome]}
  - {name: p-usdf, site: usdf, domain: 5, cscs: ["Test:1"]}
`

func TestRemoteRegistryTopic(t *testing.T) {
	cases := []struct {
		name, stand string
		want        string // the topic usdf's remote registry for summit reads
		err         string
	}{
		{"default policy", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: usdf, topics: ['.*']}
`, "summit.registry-schemas", ""},
		{"separator _", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: usdf, topics: ['.*'], separator: _}
`, "summit_registry-schemas", ""},
		{"chain through base", `version: 1
sites:
  summit: {registry: {}}
  base: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: base, topics: ['.*']}
  - {source: base, target: usdf, topics: ['.*']}
`, "base.summit.registry-schemas", ""},
		{"chain with separator _", `version: 1
sites:
  summit: {registry: {}}
  base: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: base, topics: ['.*'], separator: _}
  - {source: base, target: usdf, topics: ['.*'], separator: _}
`, "base_summit_registry-schemas", ""},
		{"the direct flow before the chain", `version: 1
sites:
  summit: {registry: {}}
  base: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: base, topics: ['.*']}
  - {source: base, target: usdf, topics: ['.*']}
  - {source: summit, target: usdf, topics: ['.*']}
`, "summit.registry-schemas", ""},
		{"identity policy", `version: 1
sites:
  summit: {registry: {topic: summit-schemas}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: usdf, topics: ['.*'], policy: identity}
`, "summit-schemas", ""},
		{"the older form", `version: 1
sites:
  summit: {registry: {}}
  usdf: {registry: {remote: summit}}
replication:
  - {source: summit, target: usdf, topics: ['.*'], separator: _}
`, "summit_registry-schemas", ""},
		{"a topic given", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [{alias: summit, topic: copied-schemas}]}
`, "copied-schemas", ""},
		{"no flow selects the storage topic", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [summit]}
replication:
  - {source: summit, target: usdf, topics: ['lsst\.sal\..*']}
`, "", `s.yaml:4:30: site "usdf": remote registry for "summit": no replication flow brings summit's registry storage topic "registry-schemas" to usdf (flows: summit->usdf)`},
		{"no flow at all", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [summit]}
`, "", `s.yaml:4:30: site "usdf": remote registry for "summit": no replication flow brings summit's registry storage topic "registry-schemas" to usdf (flows: none)`},
		{"the alias has no registry", `version: 1
sites:
  summit: {kafka: {brokers: 1}}
  usdf: {remote_registries: [summit]}
`, "", `s.yaml:4:30: site "usdf": remote registry "summit": site "summit" has no registry of its own`},
		{"its own site", `version: 1
sites:
  usdf: {registry: {}, remote_registries: [usdf]}
`, "", `site "usdf": remote registry "usdf": a site's own schemas are served by its registry`},
		{"unknown alias", `version: 1
sites:
  usdf: {remote_registries: [{alias: base}]}
`, "", `s.yaml:3:38: site "usdf": remote registry "base": unknown site "base" (defined: usdf)`},
		{"both forms", `version: 1
sites:
  summit: {registry: {}}
  usdf: {registry: {remote: summit}, remote_registries: [summit]}
`, "", "registry remote and remote_registries exclude each other"},
		{"a url off the external backend", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [{alias: summit, url: "http://r:8081"}]}
`, "", "url is for the external backend"},
		{"unknown key", `version: 1
sites:
  summit: {registry: {}}
  usdf: {remote_registries: [{alias: summit, topics: x}]}
`, "", `s.yaml:4: unknown key "topics" in a remote registry`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Parse("s.yaml", []byte(c.stand), LoadOptions{})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.RemoteRegistryTopic("usdf", "summit")
			if err != nil || got != c.want {
				t.Fatalf("topic %q (%v), want %q", got, err, c.want)
			}
		})
	}
}

func TestSinkRegistries(t *testing.T) {
	twoWay := `
replication:
  - {source: summit, target: usdf, topics: ['.*']}
  - {source: usdf, target: summit, topics: ['.*']}
`
	cases := []struct {
		name             string
		summit, usdf     string // the sites' registry keys
		rest             string // flows and sinks
		want             []string
		err              string
		errLineAndColumn string
	}{
		{"a replica's rule takes the alias's remote registry",
			"    registry: {}", "    registry: {}\n    remote_registries: [summit]",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['summit\\.lsst\\.sal\\..*']}\n",
			[]string{"summit"}, "", ""},
		{"a local topic's rule takes the site's own",
			"    registry: {}", "    registry: {}\n    remote_registries: [summit]",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['lsst\\.sal\\..*']}\n",
			[]string{"local"}, "", ""},
		{"one sink, a rule per source",
			"    registry: {}", "    registry: {}\n    remote_registries: [summit]",
			twoWay + "sinks:\n  - name: k\n    site: usdf\n    rules:\n      - {topics: ['lsst\\.sal\\..*'], database: efd}\n      - {topics: ['summit\\.lsst\\.sal\\..*'], database: efd}\n",
			[]string{"local", "summit"}, "", ""},
		{"the older form: a site whose only registry is remote",
			"    registry: {}", "    registry: {remote: summit}",
			"replication:\n  - {source: summit, target: usdf, topics: ['.*']}\nproducers: []\nsinks:\n  - {name: k, site: usdf, topics: ['summit\\..*']}\n",
			[]string{"summit"}, "", ""},
		{"replicas through the site's own registry (no remote one)",
			"    registry: {}", "    registry: {}",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['summit\\.lsst\\.sal\\..*']}\n",
			nil, `s.yaml:18:35: sink "k": reads summit.lsst.sal.ATDome.ackcmd, summit.lsst.sal.ATDome.command_disable and 20 more (produced at summit)`, `add remote_registries: [summit] to site "usdf" and give the rule registry "summit"`},
		{"one rule over both sites' topics",
			"    registry: {}", "    registry: {}\n    remote_registries: [summit]",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['.*lsst\\.sal\\..*']}\n",
			nil, "its topics come from summit and usdf: one registry serves one site's schema ids, so split the rule by source", "s.yaml:19:35:"},
		{"a replica's rule told to use the local registry",
			"    registry: {}", "    registry: {}\n    remote_registries: [summit]",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['summit\\..*lsst\\.sal\\..*'], registry: local}\n",
			nil, "(produced at summit) through site usdf's own registry, which does not serve summit's schemas", ""},
		{"a registry the site does not have",
			"    registry: {}", "    registry: {}",
			twoWay + "sinks:\n  - {name: k, site: usdf, topics: ['summit\\..*'], registry: summit}\n",
			nil, `registry "summit": site "usdf" has no such registry (it has: local)`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(twoSites, "%s", c.summit, 1)
			text = strings.Replace(text, "%s", c.usdf, 1)
			if strings.Contains(c.rest, "producers: []") {
				text = text[:strings.Index(text, "producers:")] + "producers:\n  - {name: p-summit, site: summit, domain: 0, cscs: [ATDome]}\n"
				c.rest = strings.Replace(c.rest, "producers: []\n", "", 1)
			}
			st, err := Parse("s.yaml", []byte(text+c.rest), LoadOptions{})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.errLineAndColumn) {
					t.Fatalf("error %v, want one containing %q and %q", err, c.err, c.errLineAndColumn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Sinks[0].RuleRegistries(); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("registries %v, want %v", got, c.want)
			}
		})
	}
}

func TestExternalSitesShareNoDatabase(t *testing.T) {
	stand := `version: 1
backend: external
sites:
  summit:
    kafka: {bootstrap: "k1:9092"}
    influxdb: {url: "http://influx:8086", databases: [efd]}
  usdf:
    kafka: {bootstrap: "k2:9092"}
    influxdb: {url: "http://influx:8086/", databases: [efd]}
`
	_, err := Parse("s.yaml", []byte(stand), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `sites "summit" and "usdf" both name database "efd"`) {
		t.Fatalf("error %v, want the shared database named", err)
	}
	ok := strings.Replace(stand, "databases: [efd]}\n", "databases: [efd_usdf]}\n", 2)
	ok = strings.Replace(ok, "databases: [efd_usdf]}\n  usdf", "databases: [efd]}\n  usdf", 1)
	if _, err := Parse("s.yaml", []byte(ok), LoadOptions{}); err != nil {
		t.Fatalf("two databases of one InfluxDB: %v", err)
	}
}
