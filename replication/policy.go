package replication

import (
	"fmt"
	"regexp"
	"strings"
)

// Policy maps source topic names to target topic names, as MirrorMaker 2's
// ReplicationPolicy does.
type Policy interface {
	// FormatRemoteTopic is the name of topic at the target.
	FormatRemoteTopic(sourceAlias, topic string) string
	// TopicSource is the alias of the cluster a remote topic came from, or
	// "" for a topic that is not a replica.
	TopicSource(topic string) string
	// UpstreamTopic is the name a remote topic had one hop upstream, or ""
	// for a topic that is not a replica.
	UpstreamTopic(topic string) string
}

// DefaultPolicy is MirrorMaker 2's DefaultReplicationPolicy.
type DefaultPolicy struct {
	// Separator between alias and topic; "" means ".".
	Separator string
}

func (p DefaultPolicy) sep() string {
	if p.Separator == "" {
		return "."
	}
	return p.Separator
}

// FormatRemoteTopic implements Policy.
func (p DefaultPolicy) FormatRemoteTopic(sourceAlias, topic string) string {
	return sourceAlias + p.sep() + topic
}

// TopicSource implements Policy.
func (p DefaultPolicy) TopicSource(topic string) string {
	alias, _, ok := strings.Cut(topic, p.sep())
	if !ok {
		return ""
	}
	return alias
}

// UpstreamTopic implements Policy.
func (p DefaultPolicy) UpstreamTopic(topic string) string {
	_, rest, ok := strings.Cut(topic, p.sep())
	if !ok {
		return ""
	}
	return rest
}

// IdentityPolicy is MirrorMaker 2's IdentityReplicationPolicy: names are
// kept, so the source of a topic cannot be told from its name and cycles
// cannot be detected (use it one-way only).
type IdentityPolicy struct{}

// FormatRemoteTopic implements Policy.
func (IdentityPolicy) FormatRemoteTopic(_, topic string) string { return topic }

// TopicSource implements Policy.
func (IdentityPolicy) TopicSource(string) string { return "" }

// UpstreamTopic implements Policy.
func (IdentityPolicy) UpstreamTopic(string) string { return "" }

// NewPolicy returns the policy named "default" or "identity".
func NewPolicy(name, separator string) (Policy, error) {
	switch name {
	case "", "default", "DefaultReplicationPolicy":
		return DefaultPolicy{Separator: separator}, nil
	case "identity", "IdentityReplicationPolicy":
		return IdentityPolicy{}, nil
	}
	return nil, fmt.Errorf("replication policy %q: want default or identity", name)
}

// isInternal reports topics that MirrorMaker 2 never replicates: Kafka's and
// Connect's internal topics and MM2's own.
func isInternal(topic string) bool {
	return strings.HasPrefix(topic, "__") || strings.HasPrefix(topic, ".") ||
		strings.HasSuffix(topic, ".internal") || strings.HasSuffix(topic, "-internal") ||
		strings.HasPrefix(topic, "mm2-")
}

// isCycle reports whether topic's source chain contains target: sending it
// there would loop.
func isCycle(p Policy, topic, target string) bool {
	for t := topic; t != ""; t = p.UpstreamTopic(t) {
		src := p.TopicSource(t)
		if src == "" {
			return false
		}
		if src == target {
			return true
		}
	}
	return false
}

// Filter selects topics by MirrorMaker 2's "topics" and "topics.exclude"
// regex lists (each pattern must match the whole name).
type Filter struct {
	include, exclude []*regexp.Regexp
}

// DefaultExclude is MirrorMaker 2's default topics.exclude.
var DefaultExclude = []string{`.*[\-\.]internal`, `.*\.replica`, `__.*`}

// NewFilter compiles include and exclude patterns. Empty include means ".*";
// nil exclude means DefaultExclude.
func NewFilter(include, exclude []string) (*Filter, error) {
	if len(include) == 0 {
		include = []string{".*"}
	}
	if exclude == nil {
		exclude = DefaultExclude
	}
	f := &Filter{}
	for _, s := range include {
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(s) + ")$")
		if err != nil {
			return nil, fmt.Errorf("topics pattern %q: %w", s, err)
		}
		f.include = append(f.include, re)
	}
	for _, s := range exclude {
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(s) + ")$")
		if err != nil {
			return nil, fmt.Errorf("topics.exclude pattern %q: %w", s, err)
		}
		f.exclude = append(f.exclude, re)
	}
	return f, nil
}

// Match reports whether topic is selected.
func (f *Filter) Match(topic string) bool {
	for _, re := range f.exclude {
		if re.MatchString(topic) {
			return false
		}
	}
	for _, re := range f.include {
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}
