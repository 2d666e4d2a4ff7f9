package sasquatch

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/replication"
)

// object is the part of a Kubernetes object the project reads.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec yaml.Node         `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

// ParseManifests reads the rendered manifests of environment env (the
// YAML stream Render returns, or `helm template`'s): the Kafka CR,
// KafkaTopics, KafkaUsers, StrimziSchemaRegistries, the telegraf.conf of
// every ConfigMap that has one, and the KafkaMirrorMaker2 CRs. file
// names the stream in errors.
func ParseManifests(env, file string, data []byte) (*Deployment, error) {
	d := &Deployment{Env: env, Files: []string{file}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(n.Content) == 0 {
			continue
		}
		// Kubernetes reads a manifest as JSON, where the last of two equal
		// keys wins; YAML refuses them. Keep the last, as the cluster
		// does, and say so: a key set twice is a values mistake.
		for _, dup := range dropDuplicateKeys(&n, "") {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s:%d: %s set twice; Kubernetes keeps the last (line %d)", file, dup.first, dup.path, dup.last))
		}
		var o object
		if err := n.Decode(&o); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n.Content[0].Line, err)
		}
		where := fmt.Sprintf("%s:%d%s: %s %s", file, n.Content[0].Line, source(&n), o.Kind, o.Metadata.Name)
		if err := d.add(&o, where); err != nil {
			if o.Kind == "ConfigMap" {
				return nil, err // named with its telegraf.conf's line
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	d.sort()
	return d, nil
}

// add takes in one object.
func (d *Deployment) add(o *object, where string) error {
	switch o.Kind {
	case "Kafka":
		var spec struct {
			Kafka struct {
				Version   string         `yaml:"version"`
				Config    map[string]any `yaml:"config"`
				Listeners []struct {
					Name string `yaml:"name"`
				} `yaml:"listeners"`
			} `yaml:"kafka"`
		}
		if err := o.Spec.Decode(&spec); err != nil {
			return err
		}
		k := &Kafka{Name: o.Metadata.Name, Version: spec.Kafka.Version, Config: text(spec.Kafka.Config)}
		for _, l := range spec.Kafka.Listeners {
			k.Listeners = append(k.Listeners, l.Name)
		}
		d.Kafka = k
	case "KafkaTopic":
		var spec struct {
			TopicName  string         `yaml:"topicName"`
			Partitions int            `yaml:"partitions"`
			Replicas   int            `yaml:"replicas"`
			Config     map[string]any `yaml:"config"`
		}
		if err := o.Spec.Decode(&spec); err != nil {
			return err
		}
		name := spec.TopicName
		if name == "" {
			name = o.Metadata.Name
		}
		d.Topics = append(d.Topics, Topic{Name: name, Partitions: spec.Partitions, Replicas: spec.Replicas, Config: text(spec.Config)})
	case "KafkaUser":
		var spec struct {
			Authentication struct {
				Type string `yaml:"type"`
			} `yaml:"authentication"`
			Authorization struct {
				ACLs []struct {
					Resource struct {
						Type        string `yaml:"type"`
						Name        string `yaml:"name"`
						PatternType string `yaml:"patternType"`
					} `yaml:"resource"`
					Operations []string `yaml:"operations"`
					Operation  string   `yaml:"operation"`
					Type       string   `yaml:"type"` // allow (default) or deny
				} `yaml:"acls"`
			} `yaml:"authorization"`
		}
		if err := o.Spec.Decode(&spec); err != nil {
			return err
		}
		u := User{Name: o.Metadata.Name, Authentication: spec.Authentication.Type}
		for _, a := range spec.Authorization.ACLs {
			if a.Type == "deny" {
				continue // the deployments deny nothing; a deny is not a grant
			}
			ops := a.Operations
			if a.Operation != "" {
				ops = append(ops, a.Operation)
			}
			u.ACLs = append(u.ACLs, ACL{Type: a.Resource.Type, Name: a.Resource.Name, PatternType: cmp.Or(a.Resource.PatternType, "literal"), Operations: ops})
		}
		d.Users = append(d.Users, u)
		if u.Name == "rest-proxy" {
			for _, a := range u.ACLs {
				if a.Type == "topic" && (slices.Contains(a.Operations, "Write") || slices.Contains(a.Operations, "All")) {
					d.RestPrefixes = append(d.RestPrefixes, a.Name)
				}
			}
		}
	case "StrimziSchemaRegistry":
		var spec struct {
			RegistryTopic      string `yaml:"registryTopic"`
			CompatibilityLevel string `yaml:"compatibilityLevel"`
		}
		if err := o.Spec.Decode(&spec); err != nil {
			return err
		}
		d.Registries = append(d.Registries, Registry{Name: o.Metadata.Name, Topic: cmp.Or(spec.RegistryTopic, "registry-schemas"), Compatibility: spec.CompatibilityLevel})
	case "KafkaMirrorMaker2":
		ms, err := mirrors(&o.Spec)
		if err != nil {
			return err
		}
		d.Mirrors = append(d.Mirrors, ms...)
	case "ConfigMap":
		conf, ok := o.Data["telegraf.conf"]
		if !ok {
			return nil
		}
		name := strings.TrimPrefix(o.Metadata.Name, "sasquatch-telegraf-")
		cs, err := ParseTelegraf(name, where+" telegraf.conf", conf)
		if err != nil {
			return err
		}
		d.Consumers = append(d.Consumers, cs...)
	}
	return nil
}

// source is " (template)" from the "# Source: template" comment Helm
// writes above each document, or "".
func source(n *yaml.Node) string {
	cs := []string{n.HeadComment, n.Content[0].HeadComment}
	if m := n.Content[0]; len(m.Content) > 0 {
		cs = append(cs, m.Content[0].HeadComment) // where yaml.v3 puts it
	}
	for _, c := range cs {
		for _, l := range strings.Split(c, "\n") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(l), "# Source: "); ok {
				return " (" + t + ")"
			}
		}
	}
	return ""
}

// mirrors reads a KafkaMirrorMaker2 spec.
func mirrors(spec *yaml.Node) ([]*Mirror, error) {
	var s struct {
		Clusters []struct {
			Alias            string `yaml:"alias"`
			BootstrapServers string `yaml:"bootstrapServers"`
		} `yaml:"clusters"`
		Mirrors []struct {
			SourceCluster        string `yaml:"sourceCluster"`
			TargetCluster        string `yaml:"targetCluster"`
			TopicsPattern        string `yaml:"topicsPattern"`
			TopicsExcludePattern string `yaml:"topicsExcludePattern"`
			SourceConnector      struct {
				Config map[string]any `yaml:"config"`
			} `yaml:"sourceConnector"`
			HeartbeatConnector  *yaml.Node `yaml:"heartbeatConnector"`
			CheckpointConnector *yaml.Node `yaml:"checkpointConnector"`
		} `yaml:"mirrors"`
	}
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	var out []*Mirror
	for i, m := range s.Mirrors {
		cfg := text(m.SourceConnector.Config)
		mm := &Mirror{Source: m.SourceCluster, Target: m.TargetCluster,
			Patterns: replication.SplitTopicPatterns(m.TopicsPattern), Exclude: replication.SplitTopicPatterns(m.TopicsExcludePattern),
			Separator: cmp.Or(cfg["replication.policy.separator"], "."), Refresh: 10 * time.Minute,
			Heartbeats: m.HeartbeatConnector != nil, Checkpoints: m.CheckpointConnector != nil}
		for _, c := range s.Clusters {
			if c.Alias == m.SourceCluster {
				mm.SourceBootstrap = c.BootstrapServers
			}
		}
		switch p := cfg["replication.policy.class"]; p {
		case "", "org.apache.kafka.connect.mirror.DefaultReplicationPolicy":
			mm.Policy = "default"
		case "org.apache.kafka.connect.mirror.IdentityReplicationPolicy":
			mm.Policy = "identity"
		default:
			return nil, fmt.Errorf("mirrors[%d]: replication.policy.class %q: want DefaultReplicationPolicy or IdentityReplicationPolicy", i, p)
		}
		if r, ok := cfg["refresh.topics.interval.seconds"]; ok {
			n, err := strconv.ParseFloat(r, 64)
			if err != nil {
				return nil, fmt.Errorf("mirrors[%d]: refresh.topics.interval.seconds %q: %w", i, r, err)
			}
			mm.Refresh = time.Duration(n * float64(time.Second))
		}
		var exclude []string
		if len(mm.Exclude) > 0 {
			exclude = mm.Exclude
		}
		f, err := replication.NewFlow(mm.Source, mm.Target, mm.Patterns, exclude, mm.Policy, mm.Separator)
		if err != nil {
			return nil, fmt.Errorf("mirrors[%d] (%s -> %s): topicsPattern: %w", i, mm.Source, mm.Target, err)
		}
		mm.Flow = f
		out = append(out, mm)
	}
	return out, nil
}

// ParseMirrorMaker2 reads a Strimzi KafkaMirrorMaker2 YAML on its own:
// the mirrors into environment env.
func ParseMirrorMaker2(env, file string, data []byte) (*Deployment, error) {
	d, err := ParseManifests(env, file, data)
	if err != nil {
		return nil, err
	}
	if len(d.Mirrors) == 0 {
		return nil, fmt.Errorf("%s: no KafkaMirrorMaker2 with mirrors", file)
	}
	return d, nil
}

// ParseTelegrafFile reads a single telegraf.conf as a deployment of one
// environment whose only part is its consumers.
func ParseTelegrafFile(env, file string, data []byte) (*Deployment, error) {
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".conf"), ".toml")
	cs, err := ParseTelegraf(name, file, string(data))
	if err != nil {
		return nil, err
	}
	return &Deployment{Env: env, Files: []string{file}, Consumers: cs}, nil
}

func (d *Deployment) sort() {
	slices.SortFunc(d.Consumers, func(a, b *Consumer) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(d.Topics, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
}

// text turns a CR's config map into text values (numbers as Kafka
// writes them: 10485760, not 1.048576e+07).
func text(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch x := v.(type) {
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// duplicate is a mapping key written twice.
type duplicate struct {
	path        string
	first, last int
}

// dropDuplicateKeys removes from every mapping under n the earlier of
// two equal keys and returns them.
func dropDuplicateKeys(n *yaml.Node, path string) []duplicate {
	var out []duplicate
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			out = append(out, dropDuplicateKeys(c, p)...)
		}
	case yaml.MappingNode:
		last := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			last[n.Content[i].Value] = i
		}
		var kept []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := strings.TrimPrefix(path+"."+k.Value, ".")
			if j := last[k.Value]; j != i {
				out = append(out, duplicate{path: p, first: k.Line, last: n.Content[j].Line})
				continue
			}
			out = append(out, dropDuplicateKeys(v, p)...)
			kept = append(kept, k, v)
		}
		n.Content = kept
	}
	return out
}
