package sasquatch

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Consumer is one [[inputs.kafka_consumer]] of a Telegraf deployment,
// with the [agent] and [[outputs.influxdb]] settings that shape what it
// writes.
type Consumer struct {
	// Name is the consumer's key in Sasquatch's values (the ConfigMap
	// name without "sasquatch-telegraf-"), with "#N" for the Nth input of
	// a config that has several.
	Name string
	// File names where it was read ("summit: ConfigMap sasquatch-telegraf-m1m3").
	File string
	// Group is consumer_group.
	Group   string
	Brokers []string
	// Topics are the exact topic names (topics); TopicRegexps the Go
	// regular expressions matched anywhere in a name (topic_regexps).
	Topics       []string
	TopicRegexps []*regexp.Regexp
	// DataFormat is data_format ("avro", "json_v2", ...).
	DataFormat string
	// Registry is avro_schema_registry, as the deployment names it.
	Registry string
	// Databases are the outputs' databases for the consumer's metrics
	// (outputs that do not only take Telegraf's own telegraf_* metrics).
	Databases []string
	// Outputs are the InfluxDB URLs written to.
	Outputs []string
	// Offset is where a new group starts ("oldest" or "newest").
	Offset string
	// Precision rounds every metric's time (precision = "1us").
	Precision time.Duration
	// Timestamp and TimestampFormat are avro_timestamp and
	// avro_timestamp_format.
	Timestamp, TimestampFormat string
	// UnionMode is avro_union_mode ("flatten", "nullable", "any").
	UnionMode string
	// FieldSeparator is avro_field_separator.
	FieldSeparator string
	// Tags and Fields are avro_tags and avro_fields.
	Tags, Fields []string
	// MetricBatchSize and FlushInterval are the agent's.
	MetricBatchSize int
	FlushInterval   time.Duration
	// MaxUndelivered is max_undelivered_messages.
	MaxUndelivered int
	// KafkaVersion is the protocol version Telegraf speaks (kafka_version).
	KafkaVersion string
	// Unsupported are the options set that the project's sink does not
	// honour, each with why; a sink run from this consumer refuses them.
	Unsupported []string
	// Conf is the telegraf.conf the consumer was read from, and Input
	// its place among the file's kafka_consumer inputs.
	Conf  string
	Input int
}

// Matches reports whether the consumer subscribes to topic, as Telegraf
// does: an exact name of topics, or a topic_regexps expression found
// anywhere in the name.
func (c *Consumer) Matches(topic string) bool {
	if slices.Contains(c.Topics, topic) {
		return true
	}
	for _, re := range c.TopicRegexps {
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}

// option says what the project does with one Telegraf option: set it on
// the consumer, or nothing, with why.
type option struct {
	set func(c *Consumer, v any) error
	// noEffect, when set, says why the option changes nothing that is
	// written (tuning, Telegraf's own metrics).
	noEffect string
}

var consumerOptions = map[string]option{
	"brokers":        {set: func(c *Consumer, v any) (err error) { c.Brokers, err = strs(v); return }},
	"consumer_group": {set: func(c *Consumer, v any) (err error) { c.Group, err = str(v); return }},
	"topics":         {set: func(c *Consumer, v any) (err error) { c.Topics, err = strs(v); return }},
	"topic_regexps": {set: func(c *Consumer, v any) error {
		ps, err := strs(v)
		for _, p := range ps {
			re, cerr := regexp.Compile(p)
			if cerr != nil {
				return fmt.Errorf("%q: Telegraf compiles topic_regexps with Go's regexp: %w", p, cerr)
			}
			c.TopicRegexps = append(c.TopicRegexps, re)
		}
		return err
	}},
	"data_format": {set: func(c *Consumer, v any) (err error) {
		if c.DataFormat, err = str(v); err != nil {
			return err
		}
		if !slices.Contains(telegrafFormats, c.DataFormat) {
			return fmt.Errorf("%q: not a Telegraf data format (%s)", c.DataFormat, strings.Join(telegrafFormats, ", "))
		}
		if c.DataFormat != "avro" {
			c.Unsupported = append(c.Unsupported, fmt.Sprintf("data_format %q (the sink reads avro)", c.DataFormat))
		}
		return nil
	}},
	"offset": {set: func(c *Consumer, v any) (err error) {
		if c.Offset, err = str(v); err == nil && c.Offset != "oldest" && c.Offset != "newest" {
			err = fmt.Errorf("%q: want oldest or newest", c.Offset)
		}
		return
	}},
	"precision":            {set: func(c *Consumer, v any) (err error) { c.Precision, err = dur(v); return }},
	"avro_schema_registry": {set: func(c *Consumer, v any) (err error) { c.Registry, err = str(v); return }},
	"avro_timestamp":       {set: func(c *Consumer, v any) (err error) { c.Timestamp, err = str(v); return }},
	"avro_timestamp_format": {set: func(c *Consumer, v any) (err error) {
		if c.TimestampFormat, err = str(v); err == nil && !slices.Contains([]string{"unix", "unix_ms", "unix_us", "unix_ns"}, c.TimestampFormat) {
			c.Unsupported = append(c.Unsupported, fmt.Sprintf("avro_timestamp_format %q (the sink reads unix, unix_ms, unix_us, unix_ns)", c.TimestampFormat))
		}
		return
	}},
	"avro_union_mode": {set: func(c *Consumer, v any) (err error) {
		if c.UnionMode, err = str(v); err == nil && c.UnionMode != "nullable" {
			c.Unsupported = append(c.Unsupported, fmt.Sprintf("avro_union_mode %q (the sink drops null members, as nullable)", c.UnionMode))
		}
		return
	}},
	"avro_field_separator":     {set: func(c *Consumer, v any) (err error) { c.FieldSeparator, err = str(v); return }},
	"avro_tags":                {set: func(c *Consumer, v any) (err error) { c.Tags, err = strs(v); return }},
	"avro_fields":              {set: func(c *Consumer, v any) (err error) { c.Fields, err = strs(v); return }},
	"max_undelivered_messages": {set: func(c *Consumer, v any) (err error) { c.MaxUndelivered, err = integer(v); return }},
	"kafka_version":            {set: func(c *Consumer, v any) (err error) { c.KafkaVersion, err = str(v); return }},
	"sasl_mechanism":           {noEffect: "credentials: the stand's own replace the deployment's"},
	"sasl_username":            {noEffect: "credentials: the stand's own replace the deployment's"},
	"sasl_password":            {noEffect: "credentials: the stand's own replace the deployment's"},
	"max_processing_time":      {noEffect: "tuning: how long Telegraf may take over a message"},
	"consumer_fetch_default":   {noEffect: "tuning: fetch size"},
	"compression_codec":        {noEffect: "tuning: compression of what Telegraf produces (it produces nothing)"},
	"json_v2":                  {noEffect: "the json_v2 parser's settings (data_format json_v2 is named as unsupported)"},
}

// telegrafFormats are Telegraf's input data formats.
var telegrafFormats = []string{"avro", "binary", "collectd", "csv", "dropwizard", "form_urlencoded", "graphite", "grok", "influx",
	"json", "json_v2", "logfmt", "nagios", "opentsdb", "parquet", "prometheus", "prometheusremotewrite", "value", "wavefront", "xpath_json",
	"xpath_msgpack", "xpath_protobuf", "xml"}

var agentOptions = map[string]option{
	"metric_batch_size":                 {set: func(c *Consumer, v any) (err error) { c.MetricBatchSize, err = integer(v); return }},
	"flush_interval":                    {set: func(c *Consumer, v any) (err error) { c.FlushInterval, err = dur(v); return }},
	"metric_buffer_limit":               {noEffect: "tuning: metrics Telegraf buffers while an output is down"},
	"collection_jitter":                 {noEffect: "inputs that are polled (kafka_consumer is not)"},
	"flush_jitter":                      {noEffect: "tuning: random delay of each flush"},
	"debug":                             {noEffect: "Telegraf's own log"},
	"quiet":                             {noEffect: "Telegraf's own log"},
	"logformat":                         {noEffect: "Telegraf's own log"},
	"omit_hostname":                     {noEffect: "SAL points carry no host tag either way in the EFD (the sink writes none)"},
	"skip_processors_after_aggregators": {noEffect: "there are no processors or aggregators"},
}

var outputOptions = map[string]bool{"urls": true, "database": true, "username": true, "password": true, "timeout": true, "namedrop": true, "namepass": true}

// ParseTelegraf reads a telegraf.conf as Sasquatch renders it: its
// kafka_consumer inputs, the agent's batch and flush settings, and the
// influxdb outputs. An option the project does not know is an error
// naming it, the file and its line; a known one the sink cannot honour
// is recorded in Consumer.Unsupported.
func ParseTelegraf(name, file, text string) ([]*Consumer, error) {
	var conf map[string]any
	if _, err := toml.Decode(text, &conf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	at := func(header string, n int, key string) string {
		if l := lineOf(text, header, n, key); l > 0 {
			return fmt.Sprintf("%s:%d", file, l)
		}
		return file
	}
	for section := range conf {
		if section != "agent" && section != "inputs" && section != "outputs" {
			return nil, fmt.Errorf("%s: [%s]: a section the project does not read", at("["+section+"]", 0, ""), section)
		}
	}
	base := &Consumer{}
	agent, _ := conf["agent"].(map[string]any)
	for k, v := range agent {
		if err := apply(agentOptions, base, k, v); err != nil {
			return nil, fmt.Errorf("%s: agent.%s: %w", at("[agent]", 0, k), k, err)
		}
	}
	outputs, _ := conf["outputs"].(map[string]any)
	for kind, list := range outputs {
		if kind != "influxdb" {
			return nil, fmt.Errorf("%s: outputs.%s: the project writes InfluxDB 1.x outputs only", at("[[outputs."+kind+"]]", 0, ""), kind)
		}
		for i, o := range tables(list) {
			for k := range o {
				if !outputOptions[k] {
					return nil, fmt.Errorf("%s: outputs.influxdb[%d].%s: an option the project does not know", at("[[outputs.influxdb]]", i, k), i, k)
				}
			}
			if onlyTelegrafMetrics(o) {
				continue
			}
			db, _ := o["database"].(string)
			if db != "" && !slices.Contains(base.Databases, db) {
				base.Databases = append(base.Databases, db)
			}
			urls, _ := strs(o["urls"])
			base.Outputs = append(base.Outputs, urls...)
		}
	}
	inputs, _ := conf["inputs"].(map[string]any)
	var out []*Consumer
	for kind, list := range inputs {
		switch kind {
		case "internal":
			continue // Telegraf's own metrics, into the telegraf database
		case "kafka_consumer":
		default:
			return nil, fmt.Errorf("%s: inputs.%s: the project reads kafka_consumer inputs only", at("[[inputs."+kind+"]]", 0, ""), kind)
		}
		all := tables(list)
		for i, in := range all {
			c := *base
			c.Databases, c.Outputs = slices.Clone(base.Databases), slices.Clone(base.Outputs)
			c.Name, c.File, c.Conf, c.Input = name, file, text, i
			if len(all) > 1 {
				c.Name = fmt.Sprintf("%s#%d", name, i+1)
			}
			for k, v := range in {
				if err := apply(consumerOptions, &c, k, v); err != nil {
					return nil, fmt.Errorf("%s: inputs.kafka_consumer[%d].%s: %w", at("[[inputs.kafka_consumer]]", i, k), i, k, err)
				}
			}
			if len(c.Topics) == 0 && len(c.TopicRegexps) == 0 {
				return nil, fmt.Errorf("%s: inputs.kafka_consumer[%d]: neither topics nor topic_regexps", at("[[inputs.kafka_consumer]]", i, ""), i)
			}
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *Consumer) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// apply sets option k of c, or says it is not one the project knows.
func apply(opts map[string]option, c *Consumer, k string, v any) error {
	o, ok := opts[k]
	if !ok {
		return fmt.Errorf("an option the project does not know (it would be dropped)")
	}
	if o.set == nil {
		return nil
	}
	return o.set(c, v)
}

// onlyTelegrafMetrics reports whether an output takes only Telegraf's
// own metrics (namepass = ["telegraf_*"]).
func onlyTelegrafMetrics(o map[string]any) bool {
	pass, _ := strs(o["namepass"])
	return len(pass) > 0 && !slices.ContainsFunc(pass, func(p string) bool { return !strings.HasPrefix(p, "telegraf_") })
}

// lineOf is the line of key in the nth (from 0) table under header
// ("[agent]", "[[inputs.kafka_consumer]]"), or of the nth header itself
// when key is ""; 0 when not found.
func lineOf(text, header string, n int, key string) int {
	seen := -1
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			if t == header {
				seen++
				if seen == n && key == "" {
					return i + 1
				}
			} else if seen == n {
				return 0 // past the table
			}
			continue
		}
		if seen == n && (strings.HasPrefix(t, key+" ") || strings.HasPrefix(t, key+"=")) {
			return i + 1
		}
	}
	return 0
}

func tables(v any) []map[string]any {
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	case map[string]any:
		return []map[string]any{x}
	}
	return nil
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v: want a string", v)
	}
	return s, nil
}

func strs(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v: want a list of strings", v)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v: want a list of strings", v)
}

func integer(v any) (int, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%v: want an integer", v)
	}
	return int(n), nil
}

func dur(v any) (time.Duration, error) {
	s, err := str(v)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return d, nil
}
