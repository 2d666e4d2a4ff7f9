package stand

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/saltransform"
)

// Schemas across sites, as Sasquatch runs them ("remote context"): every
// site has its own registry, whose schemas live in its storage topic;
// replication copies that topic to other sites under the flows' names
// (summit.registry-schemas, summit_registry-schemas with separator "_",
// base.summit.registry-schemas through a chain), and there a read-only
// remote registry per source alias serves it. Schema ids are per
// registry, so a consumer must decode each topic through the registry of
// the site the topic was produced at: local topics through the site's own
// registry, <alias>.* replicas through the alias's remote registry. This
// file derives the remote registries' topics from the flows and, for every
// sink rule, the registry it decodes with, refusing at load a rule that
// would decode a topic through a registry that does not hold its schemas.

// RemoteRegistrySpec is a read-only registry at a site serving the schemas
// of another site (the source alias) from their replicated storage topic.
// In YAML it is the alias alone ("summit") or a mapping.
type RemoteRegistrySpec struct {
	// Alias is the source site whose registry's schemas this one serves.
	Alias Ref `yaml:"alias" jsonschema:"required"`
	// Topic is the replicated storage topic it reads; "" derives it from
	// the stand's flows (the policy, separator and chain that bring the
	// alias's registry storage topic here).
	Topic string `yaml:"topic"`
	// URL is a running remote registry (backend external).
	URL string `yaml:"url"`
}

// UnmarshalYAML implements yaml.Unmarshaler: "summit" or {alias: summit, …}.
func (r *RemoteRegistrySpec) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return r.Alias.UnmarshalYAML(n)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: remote registry: %s: want a string", v.Line, k.Value)
			}
			switch k.Value {
			case "alias":
				if err := r.Alias.UnmarshalYAML(v); err != nil {
					return err
				}
			case "topic":
				r.Topic = v.Value
			case "url":
				r.URL = v.Value
			default:
				return fmt.Errorf("line %d: unknown key %q in a remote registry (alias, topic, url)", k.Line, k.Value)
			}
		}
		if r.Alias.Value == "" {
			return fmt.Errorf("line %d: remote registry: no alias given (the source site whose schemas it serves)", n.Line)
		}
		return nil
	}
	return fmt.Errorf("line %d: remote registry: want a site name or a mapping {alias, topic, url}", n.Line)
}

// JSONSchema implements jsonschema's custom schema: a name or a mapping.
func (RemoteRegistrySpec) JSONSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	props.Set("alias", &jsonschema.Schema{Type: "string", Description: "the source site whose registry's schemas it serves"})
	props.Set("topic", &jsonschema.Schema{Type: "string", Description: "the replicated storage topic; derived from the flows when left out"})
	props.Set("url", &jsonschema.Schema{Type: "string", Description: "a running remote registry (backend external)"})
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string", Description: "the source site's name"},
		{Type: "object", Properties: props, Required: []string{"alias"}, AdditionalProperties: jsonschema.FalseSchema},
	}}
}

// Remote is the site's remote registry for alias, or nil.
func (st *Site) Remote(alias string) *RemoteRegistrySpec {
	for _, r := range st.RemoteRegistries {
		if r.Alias.Value == alias {
			return r
		}
	}
	return nil
}

// registryNames lists a site's registries as a rule names them.
func (st *Site) registryNames() []string {
	var out []string
	if st.Registry != nil {
		out = append(out, LocalRegistry)
	}
	for _, r := range st.RemoteRegistries {
		out = append(out, r.Alias.Value)
	}
	return out
}

// LocalRegistry is how a sink rule names its site's own registry.
const LocalRegistry = "local"

// normalizeRegistries turns the older `registry: {remote: X}` (a site
// whose only registry is X's remote one) into remote_registries, so that
// the rest of the stand sees one shape.
func (s *Stand) normalizeRegistries() error {
	for _, name := range s.SiteNames() {
		st := s.Sites[name]
		if st == nil || st.Registry == nil || st.Registry.Remote.Value == "" {
			continue
		}
		if len(st.RemoteRegistries) > 0 {
			return fmt.Errorf("%s: site %q: registry remote and remote_registries exclude each other: list the alias under remote_registries and keep registry for the site's own", s.at(st.Registry.Remote), name)
		}
		st.RemoteRegistries = []*RemoteRegistrySpec{{Alias: st.Registry.Remote, Topic: st.Registry.Topic, URL: st.Registry.URL}}
		st.Registry = nil
	}
	return nil
}

// SiteTopic is a topic at a site.
type SiteTopic struct{ Site, Topic string }

// compiledFlow is a flow of the stand with its policy and filter built.
type compiledFlow struct {
	spec *FlowSpec
	flow *replication.Flow
}

// flowGraph compiles the stand's flows once; bad patterns are reported
// where the flows are validated.
func (s *Stand) flowGraph() ([]compiledFlow, error) {
	if s.compiled != nil { // made at load, then only read
		return s.compiled, nil
	}
	out := make([]compiledFlow, 0, len(s.Replication))
	for _, f := range s.Replication {
		flow, err := replication.NewFlow(f.Source.Value, f.Target.Value, f.Topics, f.Exclude, f.Policy, f.Separator)
		if err != nil {
			return nil, fmt.Errorf("%s: replication flow %q: %w", s.at(f.Source), f.Name, err)
		}
		out = append(out, compiledFlow{f, flow})
	}
	s.compiled = out
	return out, nil
}

// Replicas are the seeds followed by every replica the stand's flows
// make of them, nearest first (breadth first: a replica one hop away
// comes before one through a chain). The replicator's own policy and
// filter decide, so what the stand expects is what replicates.
func (s *Stand) Replicas(seeds ...SiteTopic) ([]SiteTopic, error) {
	out, _, err := s.ReplicaTree(seeds...)
	return out, err
}

// ReplicaTree is Replicas with, for each place, the index of the place it
// is replicated from (-1 for a seed): the path a sample takes to it.
func (s *Stand) ReplicaTree(seeds ...SiteTopic) ([]SiteTopic, []int, error) {
	flows, err := s.flowGraph()
	if err != nil {
		return nil, nil, err
	}
	var out []SiteTopic
	var from []int
	seen := map[SiteTopic]bool{}
	add := func(t SiteTopic, parent int) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
			from = append(from, parent)
		}
	}
	for _, t := range seeds {
		add(t, -1)
	}
	for i := 0; i < len(out); i++ {
		for _, f := range flows {
			if f.spec.Source.Value == out[i].Site && f.flow.Replicates(out[i].Topic) {
				add(SiteTopic{f.spec.Target.Value, f.flow.RemoteTopic(out[i].Topic)}, i)
			}
		}
	}
	return out, from, nil
}

// RemoteRegistryTopic is the storage topic the remote registry for alias
// at site reads: as given, or the name under which the stand's flows
// bring alias's registry storage topic to site (the nearest, when several
// paths do).
func (s *Stand) RemoteRegistryTopic(site, alias string) (string, error) {
	st := s.Sites[site]
	r := st.Remote(alias)
	if r == nil {
		return "", fmt.Errorf("site %q has no remote registry for %q", site, alias)
	}
	if r.Topic != "" {
		return r.Topic, nil
	}
	src := s.Sites[alias]
	reps, err := s.Replicas(SiteTopic{alias, src.Registry.Topic})
	if err != nil {
		return "", err
	}
	for _, rp := range reps[1:] {
		if rp.Site == site {
			return rp.Topic, nil
		}
	}
	var flows []string
	for _, f := range s.Replication {
		flows = append(flows, f.Name)
	}
	if len(flows) == 0 {
		flows = []string{"none"}
	}
	return "", fmt.Errorf("%s: site %q: remote registry for %q: no replication flow brings %s's registry storage topic %q to %s (flows: %s); select it in a flow's topics, or give the remote registry's topic",
		s.at(r.Alias), site, alias, alias, src.Registry.Topic, site, strings.Join(flows, ", "))
}

// checkRegistries validates every site's remote registries: the alias is
// another site with a registry of its own, named once, and a flow brings
// its storage topic (unless the topic or, on the external backend, the
// URL is given).
func (s *Stand) checkRegistries() error {
	external := s.Backend == External
	for _, name := range s.SiteNames() {
		st := s.Sites[name]
		seen := map[string]bool{}
		for _, r := range st.RemoteRegistries {
			what := fmt.Sprintf("%s: site %q: remote registry %q", s.at(r.Alias), name, r.Alias.Value)
			src := s.Sites[r.Alias.Value]
			switch {
			case src == nil:
				return fmt.Errorf("%s: unknown site %q (defined: %s)", what, r.Alias.Value, strings.Join(s.SiteNames(), ", "))
			case r.Alias.Value == name:
				return fmt.Errorf("%s: a site's own schemas are served by its registry, not a remote one", what)
			case seen[r.Alias.Value]:
				return fmt.Errorf("%s: listed twice", what)
			case src.Registry == nil && r.Topic == "" && r.URL == "":
				return fmt.Errorf("%s: site %q has no registry of its own whose schemas could be served", what, r.Alias.Value)
			case external && r.URL == "":
				return fmt.Errorf("%s: the external backend needs its url (where the running one is)", what)
			case !external && r.URL != "":
				return fmt.Errorf("%s: url is for the external backend; the %s backend starts its own", what, s.Backend)
			}
			seen[r.Alias.Value] = true
			if r.URL == "" {
				if _, err := s.RemoteRegistryTopic(name, r.Alias.Value); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// topicOrigins maps each site to the topics the stand's producers, SAL
// transforms and REST loads put there, or its flows bring there, and each
// topic to the sites it was produced at: the registries that hold its
// schemas. (A topic with two origins is one that identity replication
// merges; no single registry serves it.)
func (s *Stand) topicOrigins() (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	add := func(origin, site, topic string) error {
		reps, err := s.Replicas(SiteTopic{site, topic})
		if err != nil {
			return err
		}
		for _, r := range reps {
			if out[r.Site] == nil {
				out[r.Site] = map[string][]string{}
			}
			if !slices.Contains(out[r.Site][r.Topic], origin) {
				out[r.Site][r.Topic] = append(out[r.Site][r.Topic], origin)
			}
		}
		return nil
	}
	for _, p := range s.Producers {
		for _, c := range p.CSCs {
			name, _, _ := strings.Cut(c.Value, ":")
			comp := s.Loaded.Component(name)
			if comp == nil {
				continue
			}
			for _, t := range comp.Topics {
				if err := add(p.Site.Value, p.Site.Value, t.KafkaTopic(p.Subname)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, x := range s.SalTransforms {
		for _, c := range x.CSCs {
			comp := s.Loaded.Component(c.Value)
			if comp == nil {
				continue
			}
			for _, t := range comp.Topics {
				if err := add(x.Site.Value, x.Site.Value, saltransform.OutputTopic(t)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, t := range s.Traffic {
		if t.Kind != "rest" {
			continue
		}
		for _, r := range s.RestProxies {
			if r.Name == t.Proxy {
				if err := add(r.Site.Value, r.Site.Value, t.Topic); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// resolveSinkRegistries chooses the registry each sink rule decodes
// with, and refuses a rule that reads a topic through a registry that
// does not hold its schemas. A rule's registry is what it (or its sink)
// names: "local" or a source alias; by default, the registry of the one
// site its topics come from (the alias's remote registry for replicas,
// the site's own for local topics), else the site's own registry, else
// its only one.
func (s *Stand) resolveSinkRegistries() error {
	origins, err := s.topicOrigins()
	if err != nil {
		return err
	}
	s.origins = origins
	for n, k := range s.Sinks {
		st := s.Sites[k.Site.Value]
		have := st.registryNames()
		k.registries = make([]string, len(k.rules))
		for i := range k.rules {
			// at the rule's topics, or the sink's for its shorthand
			path := yamlx.Path{"sinks", n, "rules", i, "topics"}
			if !s.given(path[:4]) {
				path = yamlx.Path{"sinks", n, "topics"}
			}
			what := fmt.Sprintf("%s: sink %q", s.where(path), k.Name)
			if len(k.rules) > 1 {
				what += " rule " + strconv.Itoa(i+1)
			}
			// the topics this rule takes, by the site they come from
			from := map[string][]string{}
			var sources []string
			for _, topic := range sortedKeys(origins[k.Site.Value]) {
				if !k.rules[i].Matches(topic) {
					continue
				}
				for _, o := range origins[k.Site.Value][topic] {
					if from[o] == nil {
						sources = append(sources, o)
					}
					from[o] = append(from[o], topic)
				}
			}
			slices.Sort(sources)
			chosen := k.Rules[i].Registry
			if chosen == "" {
				chosen = k.Registry
			}
			switch {
			case chosen != "":
				if !slices.Contains(have, chosen) {
					return fmt.Errorf("%s: registry %q: site %q has no such registry (it has: %s)", what, chosen, k.Site.Value, listOrNone(have))
				}
			case len(sources) == 1 && sources[0] == k.Site.Value && st.Registry != nil:
				chosen = LocalRegistry
			case len(sources) == 1 && st.Remote(sources[0]) != nil:
				chosen = sources[0]
			case st.Registry != nil:
				chosen = LocalRegistry
			case len(have) > 0:
				chosen = have[0]
			}
			serves := func(origin string) bool {
				if chosen == LocalRegistry {
					return origin == k.Site.Value
				}
				return origin == chosen
			}
			for _, o := range sources {
				if serves(o) {
					continue
				}
				fix := fmt.Sprintf("give the rule registry %q", o)
				if o == k.Site.Value {
					fix = `give the rule registry "local"`
				}
				if st.Remote(o) == nil && o != k.Site.Value {
					fix = fmt.Sprintf("add remote_registries: [%s] to site %q and give the rule registry %q", o, k.Site.Value, o)
				}
				if len(sources) > 1 {
					fix = fmt.Sprintf("its topics come from %s: one registry serves one site's schema ids, so split the rule by source and %s", strings.Join(sources, " and "), fix)
				}
				return fmt.Errorf("%s: reads %s (produced at %s) through %s, which does not serve %s's schemas: schema ids are per registry, so its records would decode with other topics' schemas; %s",
					what, sampleTopics(from[o]), o, registryLabel(k.Site.Value, chosen), o, fix)
			}
			k.registries[i] = chosen
			if k.Rules[i].ReplicationSeparator == "" { // not given: the flows' own
				k.rules[i].ReplicationSeparator = cmp.Or(s.replicaSeparator(k.Site.Value, from), ".")
			}
		}
	}
	return nil
}

// replicaSeparator is the separator the flows into site name the replicas
// among topics with, when they agree on one ("" otherwise, which the sink
// takes as "."): the sink strips <alias><sep> prefixes with it to find
// the topic a record's schema must belong to.
func (s *Stand) replicaSeparator(site string, from map[string][]string) string {
	seps := map[string]bool{}
	for origin := range from {
		if origin == site {
			continue
		}
		for _, f := range s.Replication {
			if f.Target.Value == site {
				seps[cmp.Or(f.Separator, ".")] = true
			}
		}
	}
	if len(seps) != 1 {
		return ""
	}
	for sep := range seps {
		return sep
	}
	return ""
}

// registryLabel words a registry for messages.
func registryLabel(site, name string) string {
	if name == LocalRegistry {
		return fmt.Sprintf("site %s's own registry", site)
	}
	return fmt.Sprintf("site %s's remote registry for %s", site, name)
}

func sampleTopics(topics []string) string {
	if len(topics) > 2 {
		return fmt.Sprintf("%s, %s and %d more", topics[0], topics[1], len(topics)-2)
	}
	return strings.Join(topics, " and ")
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// RuleRegistries are the registries the sink's rules decode with, one per
// rule: "local" or a source alias (see resolveSinkRegistries).
func (k *SinkSpec) RuleRegistries() []string { return k.registries }

// checkSharedStorage refuses two sites of an external stand that name the
// same database of the same InfluxDB: every site is its own world, and a
// check of one site's EFD must never be satisfied by another site's sink.
func (s *Stand) checkSharedStorage() error {
	owner := map[string]string{}
	for _, name := range s.SiteNames() {
		in := s.Sites[name].InfluxDB
		if in == nil || in.URL == "" {
			continue
		}
		for _, db := range in.Names() {
			key := strings.TrimRight(in.URL, "/") + "|" + db
			if other, ok := owner[key]; ok {
				return fmt.Errorf("%s: sites %q and %q both name database %q of %s: two sites never share a database (give each site its own database or InfluxDB)", s.File, other, name, db, in.URL)
			}
			owner[key] = name
		}
	}
	return nil
}

// TopicRegistry names the registry at site that serves topic's schemas:
// "local" for a topic produced there, the source alias for a replica of
// another site's topic that the site has a remote registry for, "" when
// the stand does not know the topic (or no single registry serves it).
func (s *Stand) TopicRegistry(site, topic string) string {
	o := s.origins[site][topic]
	switch {
	case len(o) != 1:
		return ""
	case o[0] == site && s.Sites[site].Registry != nil:
		return LocalRegistry
	case s.Sites[site].Remote(o[0]) != nil:
		return o[0]
	}
	return ""
}
