package sal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Kind is what a topic carries.
type Kind int

// Topic kinds.
const (
	Telemetry Kind = iota
	Event
	Command
	Ackcmd
)

// String is the kind's name.
func (k Kind) String() string {
	switch k {
	case Telemetry:
		return "telemetry"
	case Event:
		return "event"
	case Command:
		return "command"
	case Ackcmd:
		return "ackcmd"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Field is one Avro field of a topic, private or from ts_xml.
type Field struct {
	// Name is the EFDB_Name, or private_sndStamp and the like.
	Name string
	// IDLType is ts_xml's IDL_Type as written ("long long", ...).
	IDLType string
	// AvroType is "boolean", "int", "long", "float", "double" or "string".
	AvroType string
	// Count is 1 for a scalar and the length of a fixed-length array
	// otherwise. A string is always one string, whatever its Count.
	Count int
	// IDLSize is a string's maximum size when given, else 0.
	IDLSize int
	// Units defaults to "unitless".
	Units string
	// Description is the item's description.
	Description string
	// Enumeration is the item's Enumeration text, if any.
	Enumeration string
	// Private marks salIndex and the private_* fields.
	Private bool
	// Nullable marks a field of type ["null", AvroType] with default
	// null, as the camera's .avsc topics declare most of theirs; its
	// value is nil (null) or the AvroType's Go value.
	Nullable bool
	// NoDefault marks a field declared without a default (only in .avsc
	// topics; ts_xml's XML gives every field one).
	NoDefault bool

	unitsFirst bool // an .avsc field's "units" came before "description"
}

// IsArray reports whether the field is an Avro array.
func (f *Field) IsArray() bool { return f.Count > 1 }

// Topic is one SAL topic of one CSC.
type Topic struct {
	// CSC is the SAL component name.
	CSC string
	// Name is the sal_name: "position", "logevent_summaryState",
	// "command_start" or "ackcmd".
	Name string
	// Kind is telemetry, event, command or ackcmd.
	Kind Kind
	// Description is the topic's description.
	Description string
	// Indexed is true for topics of indexed CSCs (salIndex is their
	// first field).
	Indexed bool
	// Fields are all Avro fields in schema order: the private fields,
	// then the ts_xml items in file order.
	Fields []Field

	// File and Line locate the topic's definition (generic topics point
	// into SALGenerics.xml, .avsc topics into their file, line 1).
	File string
	Line int
	// Avsc is true for a topic defined by an .avsc file of ts_xml's
	// interfaces directory (the camera CSCs): its own fields first, the
	// private fields after, its schema's keys in the order fastavro's
	// load_schema leaves them, as ts_xml's TopicInfo.from_avro does.
	Avsc bool

	avscDescribed bool // the .avsc record has a "description"

	index    map[string]int
	once     sync.Once
	schema   string
	revOnce  sync.Once
	revCode  string
	enc      []fieldCodec
	encErr   error
	encBuild sync.Once
}

// KafkaTopic is "lsst.<subname>.<CSC>.<Name>"; subname "" means "sal".
func (t *Topic) KafkaTopic(subname string) string {
	if subname == "" {
		subname = "sal"
	}
	return "lsst." + subname + "." + t.CSC + "." + t.Name
}

// Subject is the registry subject (topic name strategy).
func (t *Topic) Subject(subname string) string { return t.KafkaTopic(subname) + "-value" }

// Namespace is the Avro namespace, "lsst.sal.<CSC>" whatever the subname.
func (t *Topic) Namespace() string { return "lsst.sal." + t.CSC }

// FullName is the Avro full name, the InfluxDB measurement of the topic.
func (t *Topic) FullName() string { return t.Namespace() + "." + t.Name }

// AttrName is salobj's attribute name: tel_x, evt_x, cmd_x or ack_ackcmd.
func (t *Topic) AttrName() string {
	switch {
	case t.Name == "ackcmd":
		return "ack_ackcmd"
	case strings.HasPrefix(t.Name, "logevent_"):
		return "evt_" + t.Name[len("logevent_"):]
	case strings.HasPrefix(t.Name, "command_"):
		return "cmd_" + t.Name[len("command_"):]
	}
	return "tel_" + t.Name
}

// FieldIndex is the position of a field in Fields, or -1.
func (t *Topic) FieldIndex(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

func (t *Topic) finish() {
	t.index = make(map[string]int, len(t.Fields))
	for i, f := range t.Fields {
		t.index[f.Name] = i
	}
}

// Schema is the topic's Avro schema as JSON, identical byte for byte run to
// run and equal, key order included, to ts_xml's make_avro_schema(): for a
// topic from XML {"type": "record", "name", "namespace", "fields": [{"name",
// "type", "default", "description", "units"}, ...], "description"}; for an
// .avsc topic {"type": "record", "name", "fields", "namespace"}, its fields
// as fastavro's parser orders their keys ("description", "units",
// "default", "name", "type"), then the private fields.
func (t *Topic) Schema() string {
	t.once.Do(func() { t.schema = t.buildSchema() })
	return t.schema
}

func (t *Topic) buildSchema() string {
	var b bytes.Buffer
	str := func(s string) {
		enc, _ := json.Marshal(s)
		b.Write(enc)
	}
	b.WriteString(`{`)
	if t.avscDescribed { // fastavro keeps the properties it does not reserve first
		b.WriteString(`"description": `)
		str(t.Description)
		b.WriteString(`, `)
	}
	b.WriteString(`"type": "record", "name": `)
	str(t.Name)
	if !t.Avsc {
		b.WriteString(`, "namespace": `)
		str(t.Namespace())
	}
	b.WriteString(`, "fields": [`)
	for i := range t.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		f := &t.Fields[i]
		if t.Avsc && !f.Private {
			f.avscJSON(&b, str)
		} else {
			f.xmlJSON(&b, str)
		}
	}
	b.WriteString(`]`)
	if t.Avsc {
		b.WriteString(`, "namespace": `)
		str(t.Namespace())
	} else {
		b.WriteString(`, "description": `)
		str(t.Description)
	}
	b.WriteString(`}`)
	return b.String()
}

// xmlJSON writes a field as ts_xml's FieldInfo.make_avro_schema does.
func (f *Field) xmlJSON(b *bytes.Buffer, str func(string)) {
	b.WriteString(`{"name": `)
	str(f.Name)
	b.WriteString(`, "type": `)
	if f.IsArray() {
		b.WriteString(`{"type": "array", "items": `)
		str(f.AvroType)
		b.WriteString(`}, "default": [`)
		for j := 0; j < f.Count; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(defaultJSON(f.AvroType))
		}
		b.WriteString(`]`)
	} else {
		str(f.AvroType)
		b.WriteString(`, "default": `)
		b.WriteString(defaultJSON(f.AvroType))
	}
	b.WriteString(`, "description": `)
	str(f.Description)
	b.WriteString(`, "units": `)
	str(f.Units)
	b.WriteString(`}`)
}

// avscJSON writes a field of an .avsc topic as fastavro's parse_field
// leaves it: the properties it does not reserve first ("description",
// "units" when given), then "default" when given, "name" and "type".
func (f *Field) avscJSON(b *bytes.Buffer, str func(string)) {
	b.WriteString(`{`)
	desc := func() { b.WriteString(`"description": `); str(f.Description) }
	units := func() { b.WriteString(`"units": `); str(f.Units) }
	switch {
	case f.Units == "":
		desc()
	case f.unitsFirst:
		units()
		b.WriteString(`, `)
		desc()
	default:
		desc()
		b.WriteString(`, `)
		units()
	}
	switch {
	case f.Nullable:
		b.WriteString(`, "default": null`)
	case !f.NoDefault:
		b.WriteString(`, "default": `)
		b.WriteString(defaultJSON(f.AvroType))
	}
	b.WriteString(`, "name": `)
	str(f.Name)
	b.WriteString(`, "type": `)
	if f.Nullable {
		b.WriteString(`["null", `)
		str(f.AvroType)
		b.WriteString(`]`)
	} else {
		str(f.AvroType)
	}
	b.WriteString(`}`)
}

func defaultJSON(avroType string) string {
	switch avroType {
	case "boolean":
		return "false"
	case "float", "double":
		return "0.0"
	case "string":
		return `""`
	}
	return "0"
}

// Component is one SAL component (CSC) with its topics.
type Component struct {
	Name string
	// Indexed is true when IndexEnumeration is not "no".
	Indexed bool
	// IndexNames names indices 1..N when IndexEnumeration is a list.
	IndexNames []string
	// AddedGenerics are the subsystem's AddedGenerics entries, with
	// "mandatory" first, as component_info.py reads them.
	AddedGenerics []string
	// Description is from SALSubsystems.xml.
	Description string
	// Topics: generic topics in AddedGenerics order, then the CSC's own
	// commands, events and telemetry in file order, then ackcmd.
	Topics []*Topic

	byName map[string]*Topic
}

// Topic returns the topic with sal_name name, or nil.
func (c *Component) Topic(name string) *Topic { return c.byName[name] }

// Interfaces is a loaded set of SAL interfaces.
type Interfaces struct {
	Components map[string]*Component
}

// Component returns a CSC by name, or nil.
func (i *Interfaces) Component(name string) *Component { return i.Components[name] }

// Topic returns a topic by CSC and sal_name, or nil.
func (i *Interfaces) Topic(csc, name string) *Topic {
	if c := i.Components[csc]; c != nil {
		return c.Topic(name)
	}
	return nil
}

// Names are the CSC names, sorted.
func (i *Interfaces) Names() []string {
	out := make([]string, 0, len(i.Components))
	for n := range i.Components {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NumTopics counts topics of all CSCs, per kind.
func (i *Interfaces) NumTopics() map[Kind]int {
	out := map[Kind]int{}
	for _, c := range i.Components {
		for _, t := range c.Topics {
			out[t.Kind]++
		}
	}
	return out
}

// Count is the number of values a sample of the topic carries, each array
// item counted.
func (t *Topic) Count() int {
	n := 0
	for _, f := range t.Fields {
		n += f.Count
	}
	return n
}
