package producer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/sal"
)

// Group is one producer group of a --file, in ts_salkafka's format:
//
//	component: MTM1M3          # CSC or CSC:index
//	queue_len: 1000            # DDS read queue depth, at least 100
//	topic_sets:
//	  - add_ackcmd: true
//	    commands: [raiseM1M3]  # names without command_
//	    events: [detailedState]  # names without logevent_
//	    telemetry: [forceActuatorData]
//	    partitions: 2
//
// Topics no set lists are produced too, with the default partitions (one
// extra set, as ts_salkafka). A file holds one group, or a list of groups
// (several CSCs in one producer, and what SIGHUP re-reads to add CSCs).
type Group struct {
	Component string     `yaml:"component" json:"component"`
	QueueLen  int        `yaml:"queue_len" json:"queue_len,omitempty"`
	TopicSets []TopicSet `yaml:"topic_sets" json:"topic_sets,omitempty"`
}

// TopicSet is a set of topics produced with the same number of partitions.
type TopicSet struct {
	AddAckcmd  bool     `yaml:"add_ackcmd" json:"add_ackcmd,omitempty"`
	Commands   []string `yaml:"commands" json:"commands,omitempty"`
	Events     []string `yaml:"events" json:"events,omitempty"`
	Telemetry  []string `yaml:"telemetry" json:"telemetry,omitempty"`
	Partitions int      `yaml:"partitions" json:"partitions,omitempty"`
}

// MinQueueLen is the smallest queue_len a file may ask for.
const MinQueueLen = 100

// LoadFile reads and checks a --file against the interfaces.
func LoadFile(path string, ifaces *sal.Interfaces) ([]Group, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("producer file: %w", err)
	}
	return ParseFile(path, data, ifaces)
}

// ParseFile decodes a --file (one group or a list) and checks every name.
func ParseFile(path string, data []byte, ifaces *sal.Interfaces) ([]Group, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, yamlx.Error(path, err, nil)
	}
	var groups []Group
	section := func(t string) string {
		return map[string]string{"Group": "a producer group", "TopicSet": "a topic set"}[t]
	}
	if len(node.Content) > 0 && node.Content[0].Kind == yaml.SequenceNode {
		if err := yamlx.Decode(path, data, &groups, section); err != nil {
			return nil, err
		}
	} else {
		var g Group
		if err := yamlx.Decode(path, data, &g, section); err != nil {
			return nil, err
		}
		groups = []Group{g}
	}
	seen := map[string]bool{}
	for i, g := range groups {
		what := fmt.Sprintf("%s: group %d (%q)", path, i+1, g.Component)
		c, err := ParseComponent(g.Component)
		if err != nil {
			return nil, fmt.Errorf("%s: component: %w", what, err)
		}
		comp := ifaces.Component(c.Name)
		if comp == nil {
			return nil, fmt.Errorf("%s: unknown CSC %q", what, c.Name)
		}
		if seen[g.Component] {
			return nil, fmt.Errorf("%s: listed twice", what)
		}
		seen[g.Component] = true
		if g.QueueLen != 0 && g.QueueLen < MinQueueLen {
			return nil, fmt.Errorf("%s: queue_len %d: want at least %d", what, g.QueueLen, MinQueueLen)
		}
		inSet := map[string]int{}
		for j, set := range g.TopicSets {
			swhat := fmt.Sprintf("%s: topic set %d", what, j+1)
			if set.Partitions < 0 {
				return nil, fmt.Errorf("%s: partitions %d: want at least 1", swhat, set.Partitions)
			}
			names := map[string][]string{"command_": set.Commands, "logevent_": set.Events, "": set.Telemetry}
			for prefix, list := range names {
				for _, n := range list {
					if strings.HasPrefix(n, "command_") || strings.HasPrefix(n, "logevent_") {
						return nil, fmt.Errorf("%s: %q: give names without the command_/logevent_ prefix", swhat, n)
					}
					t := comp.Topic(prefix + n)
					if t == nil || (prefix == "" && t.Kind != sal.Telemetry) {
						return nil, fmt.Errorf("%s: %s has no %s %q", swhat, c.Name, map[string]string{"command_": "command", "logevent_": "event", "": "telemetry topic"}[prefix], n)
					}
					if prev, ok := inSet[t.Name]; ok {
						return nil, fmt.Errorf("%s: %s is already in topic set %d", swhat, t.Name, prev)
					}
					inSet[t.Name] = j + 1
					if t.Kind == sal.Event && set.Partitions > 1 {
						return nil, fmt.Errorf("%s: event %s: events have one partition", swhat, n)
					}
				}
			}
		}
	}
	return groups, nil
}

// partitions returns the partitions a group asks for each topic (absent:
// the default).
func (g Group) partitions() map[string]int32 {
	out := map[string]int32{}
	for _, set := range g.TopicSets {
		if set.Partitions == 0 {
			continue
		}
		for _, n := range set.Commands {
			out["command_"+n] = int32(set.Partitions)
		}
		for _, n := range set.Telemetry {
			out[n] = int32(set.Partitions)
		}
		if set.AddAckcmd {
			out["ackcmd"] = int32(set.Partitions)
		}
	}
	return out
}

// FileSchema is the JSON schema of a --file (printed by --show-schema).
func FileSchema() string {
	names := map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	group := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"component"},
		"properties": map[string]any{
			"component": map[string]any{"type": "string", "description": "CSC or CSC:index"},
			"queue_len": map[string]any{"type": "integer", "minimum": MinQueueLen, "description": "DDS read queue depth"},
			"topic_sets": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "additionalProperties": false,
				"properties": map[string]any{
					"add_ackcmd": map[string]any{"type": "boolean"},
					"commands":   names, "events": names, "telemetry": names,
					"partitions": map[string]any{"type": "integer", "minimum": 1},
				},
			}},
		},
	}
	schema := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"title":   "salkafka producer file",
		"oneOf":   []any{group, map[string]any{"type": "array", "items": group}},
	}
	b, _ := json.MarshalIndent(schema, "", "  ")
	return string(b)
}
