package sink

import (
	"fmt"
	"os"
	"time"

	"github.com/lsst-ts/teststand/internal/yamlx"
)

// RuleSpec is a rule as written in YAML: a stand's sink rules and
// `efdsink --rules FILE` use it. The keys are Telegraf's avro parser
// options without the "avro_" prefix.
type RuleSpec struct {
	Topics          []string `yaml:"topics"`
	Database        string   `yaml:"database"`
	RetentionPolicy string   `yaml:"retention_policy"`
	Measurement     string   `yaml:"measurement"`
	Timestamp       string   `yaml:"timestamp"`
	TimestampFormat string   `yaml:"timestamp_format"`
	Precision       string   `yaml:"precision"`
	Tags            []string `yaml:"tags"`
	Fields          []string `yaml:"fields"`
	FieldSeparator  string   `yaml:"field_separator"`
	// Registry and ReplicationSeparator are Rule's (not Telegraf avro
	// parser options: Telegraf sets the registry per input).
	Registry             string `yaml:"registry"`
	ReplicationSeparator string `yaml:"replication_separator"`
}

// Rule converts the spec; i numbers it in errors.
func (r RuleSpec) Rule(i int) (Rule, error) {
	out := Rule{
		Topics: r.Topics, Database: r.Database, RetentionPolicy: r.RetentionPolicy,
		Measurement: r.Measurement, Timestamp: r.Timestamp, TimestampFormat: r.TimestampFormat,
		Tags: r.Tags, Fields: r.Fields, FieldSeparator: r.FieldSeparator,
		Registry: r.Registry, ReplicationSeparator: r.ReplicationSeparator,
	}
	if r.Precision != "" {
		d, err := time.ParseDuration(r.Precision)
		if err != nil || d <= 0 {
			return out, fmt.Errorf("rule %d: precision %q: want e.g. 1us, 1ms or 1s", i+1, r.Precision)
		}
		out.Precision = d
	}
	if err := out.compile(i); err != nil {
		return out, err
	}
	return out, nil
}

// Rules converts and checks specs.
func Rules(specs []RuleSpec) ([]Rule, error) {
	out := make([]Rule, len(specs))
	for i, s := range specs {
		r, err := s.Rule(i)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// LoadRules reads a rules file, {rules: [...]}; errors name the file and
// line.
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRules(path, data)
}

// ParseRules decodes and compiles rules file data read from path.
func ParseRules(path string, data []byte) ([]Rule, error) {
	var f struct {
		Rules []RuleSpec `yaml:"rules"`
	}
	if err := yamlx.Decode(path, data, &f, func(t string) string {
		if t == "RuleSpec" {
			return "a rule"
		}
		return "the rules file"
	}); err != nil {
		return nil, err
	}
	if len(f.Rules) == 0 {
		return nil, fmt.Errorf("%s: no rules", path)
	}
	rules, err := Rules(f.Rules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range rules {
		if err := rules[i].checkRegistry(i); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return rules, nil
}
