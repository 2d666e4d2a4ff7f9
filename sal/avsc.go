package sal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// AvroCSCs are the components whose topics ts_xml also defines as .avsc
// files, in its interfaces directory beside sal_interfaces:
// component_info.py adds <interfaces>/<CSC>/*.avsc to these three and no
// other.
var AvroCSCs = []string{"ATCamera", "CCCamera", "MTCamera"}

// idlOfAvro is the IDL type an .avsc field's Avro type stands for (the
// inverse of the XML mapping, so that the DDS layout of such a topic is
// what SAL would give the same Avro).
var idlOfAvro = map[string]string{
	"boolean": "boolean",
	"int":     "long",
	"long":    "long long",
	"float":   "float",
	"double":  "double",
	"string":  "string",
}

// avscFile is an .avsc record as read, keys kept in file order where
// fastavro keeps them.
type avscFile struct {
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Fields      []json.RawMessage `json:"fields"`
	Description *string           `json:"description"`
}

// avscField is one field of an .avsc record.
type avscField struct {
	Name        string          `json:"name"`
	Type        json.RawMessage `json:"type"`
	Default     json.RawMessage `json:"default"`
	Description *string         `json:"description"`
	Units       *string         `json:"units"`
}

// avscRecordKeys and avscFieldKeys are the keys an .avsc may use; any
// other is refused rather than silently left out of the schema.
var (
	avscRecordKeys = []string{"type", "name", "namespace", "fields", "description"}
	avscFieldKeys  = []string{"name", "type", "default", "description", "units"}
)

// parseAvsc builds the topic an .avsc file of csc defines, as ts_xml's
// TopicInfo.from_avro does: the topic's name is the file's stem, its
// fields are the file's, then salIndex (indexed CSCs) and the private
// fields.
func parseAvsc(data []byte, file, csc string, indexed bool) (*Topic, error) {
	perr := func(field string, err error) error {
		return &ParseError{File: file, Line: 1, Field: field, Err: err}
	}
	keys, err := objectKeys(data)
	if err != nil {
		return nil, perr("", fmt.Errorf("malformed JSON: %w", err))
	}
	if err := onlyKeys(keys, avscRecordKeys); err != nil {
		return nil, perr("", err)
	}
	var rec avscFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&rec); err != nil {
		return nil, perr("", fmt.Errorf("malformed JSON: %w", err))
	}
	if rec.Type != "record" {
		return nil, perr("", fmt.Errorf("type %q: want \"record\"", rec.Type))
	}
	name := strings.TrimSuffix(path.Base(file), ".avsc")
	ns := rec.Namespace
	if i := strings.LastIndexByte(rec.Name, '.'); i >= 0 {
		ns = rec.Name[:i] // a full name wins over namespace, as in Avro
	}
	if want := "lsst.sal." + csc; ns != want {
		return nil, perr("", fmt.Errorf("namespace %q: want %q", ns, want))
	}
	t := &Topic{CSC: csc, Name: name, Kind: kindOfName(name), Indexed: indexed, File: file, Line: 1, Avsc: true}
	if rec.Description != nil {
		t.Description = *rec.Description
		t.avscDescribed = true
	}
	seen := map[string]bool{}
	for _, raw := range rec.Fields {
		f, err := parseAvscField(raw)
		if err != nil {
			return nil, perr(f.Name, err)
		}
		if seen[f.Name] {
			return nil, perr(f.Name, errors.New("duplicate field"))
		}
		seen[f.Name] = true
		t.Fields = append(t.Fields, f)
	}
	if indexed {
		t.Fields = append(t.Fields, salIndexField)
	}
	t.Fields = append(t.Fields, privateFields...)
	for _, f := range t.Fields[len(t.Fields)-len(privateFields):] {
		if seen[f.Name] {
			return nil, perr(f.Name, errors.New("a private field's name"))
		}
	}
	t.finish()
	return t, nil
}

func parseAvscField(raw json.RawMessage) (Field, error) {
	var af avscField
	if err := json.Unmarshal(raw, &af); err != nil {
		return Field{}, fmt.Errorf("malformed field: %w", err)
	}
	f := Field{Name: af.Name, Count: 1}
	keys, err := objectKeys(raw)
	if err != nil {
		return f, err
	}
	if err := onlyKeys(keys, avscFieldKeys); err != nil {
		return f, err
	}
	if f.Name == "" {
		return f, errors.New("field without a name")
	}
	if af.Description == nil {
		return f, errors.New("no description (ts_xml requires one)")
	}
	f.Description = *af.Description
	if af.Units != nil {
		if *af.Units == "" {
			return f, errors.New(`units "": leave the key out instead`)
		}
		f.Units = *af.Units
		f.unitsFirst = slices.Index(keys, "units") < slices.Index(keys, "description")
	}
	var typ any
	if err := json.Unmarshal(af.Type, &typ); err != nil {
		return f, fmt.Errorf("type: %w", err)
	}
	switch x := typ.(type) {
	case string:
		f.AvroType = x
	case []any:
		if len(x) != 2 || x[0] != "null" {
			return f, fmt.Errorf("type %s: the only union taken is [\"null\", <primitive>]", af.Type)
		}
		s, _ := x[1].(string)
		f.AvroType = s
		f.Nullable = true
	default:
		return f, fmt.Errorf("type %s: want a primitive or [\"null\", <primitive>]", af.Type)
	}
	idl, ok := idlOfAvro[f.AvroType]
	if !ok {
		return f, fmt.Errorf("type %s: want boolean, int, long, float, double or string", af.Type)
	}
	f.IDLType = idl
	switch d := strings.TrimSpace(string(af.Default)); {
	case d == "":
		if f.Nullable {
			return f, errors.New(`a ["null", …] field without "default": null`)
		}
		f.NoDefault = true
	case f.Nullable:
		if d != "null" {
			return f, fmt.Errorf("default %s: a [\"null\", …] field's default must be null", d)
		}
	case d != defaultJSON(f.AvroType):
		return f, fmt.Errorf("default %s: only %s, the type's zero, is taken", d, defaultJSON(f.AvroType))
	}
	return f, nil
}

// objectKeys lists a JSON object's keys in order.
func objectKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func onlyKeys(keys, allowed []string) error {
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("key %q: not taken (only %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// kindOfName is a topic's kind from its sal_name.
func kindOfName(name string) Kind {
	switch {
	case name == "ackcmd":
		return Ackcmd
	case strings.HasPrefix(name, "logevent_"):
		return Event
	case strings.HasPrefix(name, "command_"):
		return Command
	}
	return Telemetry
}

// addAvsc adds the .avsc topics of c from avro (an interfaces directory:
// <CSC>/*.avsc), in file name order; one replaces the XML topic of the same
// name in its place, as ts_xml's topic dictionary does.
func addAvsc(avro fs.FS, c *Component) error {
	if avro == nil || !slices.Contains(AvroCSCs, c.Name) {
		return nil
	}
	files, err := fs.Glob(avro, c.Name+"/*.avsc")
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, name := range files {
		data, err := fs.ReadFile(avro, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// Named from sal_interfaces, as every other file of a load is.
		t, err := parseAvsc(data, "../interfaces/"+name, c.Name, c.Indexed)
		if err != nil {
			return err
		}
		if old := c.byName[t.Name]; old != nil {
			c.Topics[slices.Index(c.Topics, old)] = t
		} else {
			c.Topics = append(c.Topics, t)
		}
		c.byName[t.Name] = t
	}
	return nil
}
