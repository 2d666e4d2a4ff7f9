package stand

import (
	"encoding/json"

	"github.com/invopop/jsonschema"
	orderedmap "github.com/pb33f/ordered-map/v2"
)

// Schema is the JSON Schema of stand files (version 1), generated
// from the types Load decodes into, so that it cannot drift from them.
// scenarios/stand.schema.json is this text; editors that read a
// "# yaml-language-server: $schema=..." line complete and check stands.
func Schema() string {
	r := &jsonschema.Reflector{FieldNameTag: "yaml", RequiredFromJSONSchemaTags: true, DoNotReference: true}
	s := r.Reflect(&Stand{})
	s.Title = "teststand stand (version 1)"
	s.Description = "A test stand: sites (Kafka, registry, InfluxDB), SAL producers on DDS domains, replication flows and sinks. See scenarios/README.md."
	s.ID = "https://github.com/lsst-ts/teststand/scenarios/stand.schema.json"
	b, _ := json.MarshalIndent(s, "", "  ")
	return string(b) + "\n"
}

// JSONSchema implements jsonschema's custom schema: a Ref is a name.
func (Ref) JSONSchema() *jsonschema.Schema { return &jsonschema.Schema{Type: "string"} }

// JSONSchema implements jsonschema's custom schema: "500ms", "2s", never
// negative (as the loader checks).
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, Description: "a duration, e.g. 500ms or 2s"}
}

// zeroDuration matches the durations that are zero ("0s", "0.0ms").
const zeroDuration = `^(0+(\.0+)?(ns|us|µs|ms|s|m|h))+$`

// positive makes the durations at keys of s refuse zero, as the loader
// refuses a zero interval where one means nothing.
func positive(s *jsonschema.Schema, keys ...string) {
	for _, k := range keys {
		if p, ok := s.Properties.Get(k); ok {
			p.Not = &jsonschema.Schema{Pattern: zeroDuration}
		}
	}
}

// JSONSchemaExtend: a flow's refresh interval is positive; run takes a
// flow's run modes.
func (FlowSpec) JSONSchemaExtend(s *jsonschema.Schema) {
	positive(s, "refresh")
	runEnum(s, FlowKind)
}

// JSONSchemaExtend: a fault's delay and bandwidth are positive, and it
// gives at least one; it stands on a link or on a service at a site.
func (FaultSpec) JSONSchemaExtend(s *jsonschema.Schema) {
	positive(s, "delay")
	if p, ok := s.Properties.Get("bandwidth"); ok {
		p.Minimum = "1"
	}
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"delay"}}, {Required: []string{"bandwidth"}}}
	s.OneOf = []*jsonschema.Schema{{Required: []string{"link"}}, {Required: []string{"service", "site"}}}
}

// JSONSchemaExtend: the containers' timeout is positive.
func (ContainersSpec) JSONSchemaExtend(s *jsonschema.Schema) { positive(s, "timeout") }

// JSONSchemaExtend: a sink rule's precision is a positive duration, as
// sink.RuleSpec checks it.
func (SinkSpec) JSONSchemaExtend(s *jsonschema.Schema) {
	runEnum(s, SinkKind)
	if rules, ok := s.Properties.Get("rules"); ok && rules.Items != nil {
		if p, ok := rules.Items.Properties.Get("precision"); ok {
			p.Pattern = Duration{}.JSONSchema().Pattern
		}
		positive(rules.Items, "precision")
	}
}

// JSONSchema implements jsonschema's custom schema: MM2 properties.
func (MM2Block) JSONSchema() *jsonschema.Schema {
	value := &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string"}, {Type: "number"}, {Type: "boolean"},
		{Type: "array", Items: &jsonschema.Schema{Type: "string"}},
	}}
	return &jsonschema.Schema{
		Type: "object", Description: "MirrorMaker 2 properties (connect-mirror-maker.properties keys, without bootstrap servers)",
		AdditionalProperties: value, Properties: orderedmap.New[string, *jsonschema.Schema](),
	}
}

// JSONSchemaExtend lets wait_ack be written as 0, 1 or all, quoted or not,
// as the loader takes it; run takes the producer's run modes.
func (ProducerSpec) JSONSchemaExtend(s *jsonschema.Schema) {
	runEnum(s, ProducerKind)
	if p, ok := s.Properties.Get("wait_ack"); ok {
		p.Type = ""
		p.Enum = []any{"0", "1", "all", 0, 1}
	}
}

// JSONSchemaExtend: a REST proxy's run modes.
func (RestProxySpec) JSONSchemaExtend(s *jsonschema.Schema) { runEnum(s, RestProxyKind) }
