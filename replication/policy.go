package replication

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
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
// cannot be detected (use it one-way only). Heartbeats topics are the
// exception and are renamed as by DefaultPolicy, so that they cannot loop.
type IdentityPolicy struct {
	// Separator for heartbeats topics; "" means ".".
	Separator string
}

func (p IdentityPolicy) heartbeat(topic string) bool {
	return strings.HasSuffix(topic, HeartbeatsTopic)
}

// FormatRemoteTopic implements Policy.
func (p IdentityPolicy) FormatRemoteTopic(source, topic string) string {
	if p.heartbeat(topic) {
		return DefaultPolicy(p).FormatRemoteTopic(source, topic)
	}
	return topic
}

// TopicSource implements Policy.
func (p IdentityPolicy) TopicSource(topic string) string {
	if p.heartbeat(topic) {
		return DefaultPolicy(p).TopicSource(topic)
	}
	return ""
}

// UpstreamTopic implements Policy.
func (p IdentityPolicy) UpstreamTopic(topic string) string {
	if p.heartbeat(topic) {
		return DefaultPolicy(p).UpstreamTopic(topic)
	}
	return ""
}

// NewPolicy returns the policy named "default" or "identity".
func NewPolicy(name, separator string) (Policy, error) {
	switch name {
	case "", "default", "DefaultReplicationPolicy":
		return DefaultPolicy{Separator: separator}, nil
	case "identity", "IdentityReplicationPolicy":
		return IdentityPolicy{Separator: separator}, nil
	}
	return nil, fmt.Errorf("replication policy %q: want default or identity", name)
}

// HeartbeatsTopic is the name of MirrorMaker 2's heartbeats topic at the
// cluster heartbeats are emitted into.
const HeartbeatsTopic = "heartbeats"

// OriginalTopic is the name topic had at the cluster it was first produced
// at: the policy's upstream names followed to the end (MM2's
// ReplicationPolicy.originalTopic).
func OriginalTopic(p Policy, topic string) string {
	for {
		up := p.UpstreamTopic(topic)
		if up == "" {
			return topic
		}
		topic = up
	}
}

// IsHeartbeatsTopic reports heartbeats topics and their replicas
// ("summit.heartbeats"), which MM2 replicates whatever the topic filter.
func IsHeartbeatsTopic(p Policy, topic string) bool {
	return OriginalTopic(p, topic) == HeartbeatsTopic
}

// isInternal reports topics that MirrorMaker 2 never replicates: Kafka's and
// Connect's internal topics and MM2's own. MM2 names its own internal
// topics with the policy's separator (replication.policy.internal.topic.
// separator.enabled, true by default): with separator "_" its checkpoints
// topic is summit_checkpoints_internal, internal because it ends in
// "_internal".
func isInternal(p Policy, topic string) bool {
	sep := "."
	switch q := p.(type) {
	case DefaultPolicy:
		sep = q.sep()
	case IdentityPolicy:
		sep = DefaultPolicy(q).sep()
	}
	return strings.HasPrefix(topic, "__") || strings.HasPrefix(topic, ".") ||
		strings.HasSuffix(topic, ".internal") || strings.HasSuffix(topic, "-internal") ||
		strings.HasSuffix(topic, sep+"internal") || strings.HasPrefix(topic, "mm2-")
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

// Flow is one direction's topic selection and naming: which source topics
// go to the target and under which name. The replicator and a stand's
// expectations both use it, so what a stand expects is what replicates.
type Flow struct {
	Source, Target string
	Policy         Policy
	Filter         *Filter
}

// NewFlow builds the flow source → target from MM2's settings.
func NewFlow(source, target string, topics, exclude []string, policy, separator string) (*Flow, error) {
	pol, err := NewPolicy(policy, separator)
	if err != nil {
		return nil, err
	}
	f, err := NewFilter(topics, exclude)
	if err != nil {
		return nil, err
	}
	return &Flow{Source: source, Target: target, Policy: pol, Filter: f}, nil
}

// Replicates reports whether a source topic is replicated, as MM2's
// MirrorSourceConnector.shouldReplicateTopic decides: selected by the
// filter or a heartbeats topic, never internal, never a cycle.
func (f *Flow) Replicates(topic string) bool {
	return (f.Filter.Match(topic) || IsHeartbeatsTopic(f.Policy, topic)) &&
		!isInternal(f.Policy, topic) && !isCycle(f.Policy, topic, f.Target)
}

// RemoteTopic is the name of a source topic at the target.
func (f *Flow) RemoteTopic(topic string) string {
	return f.Policy.FormatRemoteTopic(f.Source, topic)
}

// Filter selects topics by MirrorMaker 2's "topics" and "topics.exclude"
// lists: Java regular expressions, each matching the whole name, as
// MirrorMaker 2's DefaultTopicFilter matches them (Pattern.matches).
// They are compiled with a Java-compatible engine (regexp2): deployed
// patterns use Java syntax Go's regexp lacks, such as the negative
// lookahead of lsst\.sal\.(?!MTM1M3|MTMount).*.
type Filter struct {
	include, exclude []*TopicPattern
}

// TopicPattern is one of MirrorMaker 2's topic patterns, compiled.
type TopicPattern struct {
	src string
	re  *regexp2.Regexp
}

// patternTimeout bounds one match, so that a pattern that backtracks
// without end fails a match instead of hanging the replicator.
const patternTimeout = time.Second

// CompileTopicPattern compiles a MirrorMaker 2 topic pattern (Java
// syntax, matching the whole name).
func CompileTopicPattern(p string) (*TopicPattern, error) {
	p = strings.TrimSpace(p)
	anchored := `\A(?:` + p + `)\z`
	re, err := regexp2.Compile(anchored, regexp2.None)
	if err != nil {
		// The engine quotes what it compiled: name the pattern as written.
		return nil, errors.New(strings.Replace(err.Error(), anchored, p, 1))
	}
	re.MatchTimeout = patternTimeout
	return &TopicPattern{src: p, re: re}, nil
}

// MatchString reports whether the pattern matches all of topic; a match
// that runs out of time does not match.
func (p *TopicPattern) MatchString(topic string) bool {
	ok, err := p.re.MatchString(topic)
	return err == nil && ok
}

// String is the pattern as written.
func (p *TopicPattern) String() string { return p.src }

// SplitTopicPatterns splits a MirrorMaker 2 list ("topics",
// Strimzi's topicsPattern) at its commas, as Kafka's LIST config type
// does, trimming each pattern.
func SplitTopicPatterns(l string) []string { return list(l) }

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
		re, err := CompileTopicPattern(s)
		if err != nil {
			return nil, fmt.Errorf("topics pattern %q: %w", s, err)
		}
		f.include = append(f.include, re)
	}
	for _, s := range exclude {
		re, err := CompileTopicPattern(s)
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
