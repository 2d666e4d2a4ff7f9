package sal

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// avroTypes maps ts_xml IDL types to Avro types (IDL long is 32-bit).
var avroTypes = map[string]string{
	"boolean":            "boolean",
	"byte":               "int",
	"octet":              "int",
	"char":               "int",
	"short":              "int",
	"unsigned short":     "int",
	"int":                "int",
	"long":               "int",
	"long long":          "long",
	"unsigned int":       "long",
	"unsigned long":      "long",
	"unsigned long long": "long",
	"float":              "float",
	"double":             "double",
	"string":             "string",
}

// AvroType returns the Avro type of an IDL type, and whether it is known.
func AvroType(idl string) (string, bool) {
	t, ok := avroTypes[strings.TrimSpace(idl)]
	return t, ok
}

func privateField(name, idl, units, desc string) Field {
	return Field{Name: name, IDLType: idl, AvroType: avroTypes[idl], Count: 1, Units: units, Description: desc, Private: true}
}

// The private fields every topic starts with; salIndex only for indexed
// CSCs. Descriptions are ts_xml's.
var (
	salIndexField = privateField("salIndex", "long", "unitless", "SAL index (only present for indexed SAL components)")
	privateFields = []Field{
		privateField("private_sndStamp", "double", "second", "Time of instance publication"),
		privateField("private_rcvStamp", "double", "second", "Time of instance reception"),
		privateField("private_efdStamp", "double", "second", "UTC time for EFD timestamp. An integer (the number of leap seconds) different from private_sndStamp."),
		privateField("private_kafkaStamp", "double", "second", "TAI time at which the Kafka message was created."),
		privateField("private_seqNum", "long", "unitless", "Sequence number"),
		privateField("private_revCode", "string", "unitless", "Revision hashcode"),
		privateField("private_identity", "string", "unitless", "Identity of publisher: SAL component name for a CSC or user@host for a user"),
		privateField("private_origin", "long", "unitless", "Process ID of publisher"),
	}
	ackcmdFields = []Field{
		{Name: "ack", IDLType: "long", AvroType: "int", Count: 1, Units: "unitless", Description: "Acknowledgement code"},
		{Name: "error", IDLType: "long", AvroType: "int", Count: 1, Units: "unitless", Description: "An error code; only relevant if ack=FAILED"},
		{Name: "result", IDLType: "string", AvroType: "string", Count: 1, Units: "unitless", Description: "Message"},
		{Name: "identity", IDLType: "string", AvroType: "string", Count: 1, Units: "unitless", Description: "private_identity field of the command being acknowledged"},
		{Name: "origin", IDLType: "long", AvroType: "int", Count: 1, Units: "unitless", Description: "private_origin field of the command being acknowledged"},
		{Name: "cmdtype", IDLType: "long", AvroType: "int", Count: 1, Units: "unitless", Description: "Index of command in alphabetical list of commands, with 0 being the first"},
		{Name: "timeout", IDLType: "double", AvroType: "double", Count: 1, Units: "second", Description: "Estimated remaining duration of command; only relevant if ack=INPROGRESS"},
	}
)

// topicDef is a topic element as read from a file.
type topicDef struct {
	kind        Kind
	efdbTopic   string
	description string
	category    string
	items       []itemDef
	file        string
	line        int
}

type itemDef struct {
	Name        string `xml:"EFDB_Name"`
	Description string `xml:"Description"`
	IDLType     string `xml:"IDL_Type"`
	IDLSize     string `xml:"IDL_Size"`
	Units       string `xml:"Units"`
	Count       string `xml:"Count"`
	Enumeration string `xml:"Enumeration"`
	line        int
}

// ParseError locates a problem in an interface file.
type ParseError struct {
	File  string
	Line  int
	Topic string
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Topic != "" {
		fmt.Fprintf(&b, ": topic %s", e.Topic)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

var topicElements = map[string]Kind{"SALTelemetry": Telemetry, "SALEvent": Event, "SALCommand": Command}

// eachElement calls fn for every start element of the named kinds, with
// the line it starts on; fn consumes the element.
func eachElement(r io.Reader, file string, names func(string) bool, fn func(dec *xml.Decoder, se xml.StartElement, line int) error) error {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			return &ParseError{File: file, Line: line, Err: fmt.Errorf("malformed XML: %w", err)}
		}
		if se, ok := tok.(xml.StartElement); ok && names(se.Name.Local) {
			line, _ := dec.InputPos()
			if err := fn(dec, se, line); err != nil {
				return err
			}
		}
	}
}

// parseTopics reads every SALTelemetry, SALEvent and SALCommand element of
// an interface file.
func parseTopics(r io.Reader, file string) ([]topicDef, error) {
	var out []topicDef
	isTopic := func(n string) bool { _, ok := topicElements[n]; return ok }
	err := eachElement(r, file, isTopic, func(dec *xml.Decoder, se xml.StartElement, line int) error {
		td, err := parseTopic(dec, file, line, topicElements[se.Name.Local])
		out = append(out, td)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func parseTopic(dec *xml.Decoder, file string, line int, kind Kind) (topicDef, error) {
	td := topicDef{kind: kind, file: file, line: line}
	for {
		tok, err := dec.Token()
		if err != nil {
			l, _ := dec.InputPos()
			return td, &ParseError{File: file, Line: l, Topic: td.efdbTopic, Err: fmt.Errorf("malformed XML: %w", err)}
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if td.efdbTopic == "" {
				return td, &ParseError{File: file, Line: line, Err: errors.New("topic without EFDB_Topic")}
			}
			return td, nil
		case xml.StartElement:
			var err error
			switch t.Name.Local {
			case "EFDB_Topic":
				err = dec.DecodeElement(&td.efdbTopic, &t)
				td.efdbTopic = strings.TrimSpace(td.efdbTopic)
			case "Description":
				// As written: ts_xml's schemas carry the text untrimmed.
				err = dec.DecodeElement(&td.description, &t)
			case "Category":
				err = dec.DecodeElement(&td.category, &t)
				td.category = strings.TrimSpace(td.category)
			case "item":
				l, _ := dec.InputPos()
				var it itemDef
				err = dec.DecodeElement(&it, &t)
				it.line = l
				td.items = append(td.items, it)
			default:
				err = dec.Skip()
			}
			if err != nil {
				l, _ := dec.InputPos()
				return td, &ParseError{File: file, Line: l, Topic: td.efdbTopic, Err: fmt.Errorf("malformed XML: %w", err)}
			}
		}
	}
}

// salName strips the prefix up to the first "_" of an EFDB_Topic.
func salName(efdbTopic string) (string, bool) {
	_, rest, ok := strings.Cut(efdbTopic, "_")
	return rest, ok && rest != ""
}

// buildTopic turns a topic definition into a Topic of csc.
func buildTopic(csc string, indexed bool, td topicDef) (*Topic, error) {
	name, ok := salName(td.efdbTopic)
	if !ok {
		return nil, &ParseError{File: td.file, Line: td.line, Topic: td.efdbTopic, Err: errors.New(`EFDB_Topic has no "<Subsystem>_" prefix`)}
	}
	t := &Topic{CSC: csc, Name: name, Kind: td.kind, Description: td.description, Indexed: indexed, File: td.file, Line: td.line}
	if indexed {
		t.Fields = append(t.Fields, salIndexField)
	}
	t.Fields = append(t.Fields, privateFields...)
	seen := map[string]bool{}
	for _, f := range t.Fields {
		seen[f.Name] = true
	}
	for _, it := range td.items {
		perr := func(field string, err error) error {
			return &ParseError{File: td.file, Line: it.line, Topic: td.efdbTopic, Field: field, Err: err}
		}
		fname := strings.TrimSpace(it.Name)
		if fname == "" {
			return nil, perr("", errors.New("item without EFDB_Name"))
		}
		if seen[fname] {
			return nil, perr(fname, errors.New("duplicate field"))
		}
		seen[fname] = true
		idl := strings.Join(strings.Fields(it.IDLType), " ")
		avro, ok := avroTypes[idl]
		if !ok {
			return nil, perr(fname, fmt.Errorf("unknown IDL_Type %q", it.IDLType))
		}
		count := 1
		if c := strings.TrimSpace(it.Count); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n <= 0 {
				return nil, perr(fname, fmt.Errorf("Count %q: want an integer > 0", it.Count))
			}
			count = n
		}
		if avro == "string" {
			count = 1 // a string is one string whatever its Count, as in ts_sal
		}
		size := 0
		if s := strings.TrimSpace(it.IDLSize); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return nil, perr(fname, fmt.Errorf("IDL_Size %q: want an integer ≥ 0", it.IDLSize))
			}
			size = n
		}
		// Units and Description as written, as ts_xml's schemas carry
		// them; a missing or empty Units is "unitless".
		units := it.Units
		if units == "" {
			units = "unitless"
		}
		t.Fields = append(t.Fields, Field{
			Name: fname, IDLType: idl, AvroType: avro, Count: count, IDLSize: size, Units: units,
			Description: it.Description, Enumeration: strings.TrimSpace(it.Enumeration),
		})
	}
	t.finish()
	return t, nil
}

func ackcmdTopic(csc string, indexed bool) *Topic {
	t := &Topic{CSC: csc, Name: "ackcmd", Kind: Ackcmd, Description: "Command acknowledgement", Indexed: indexed}
	if indexed {
		t.Fields = append(t.Fields, salIndexField)
	}
	t.Fields = append(append(t.Fields, privateFields...), ackcmdFields...)
	t.finish()
	return t
}

type subsystemXML struct {
	Name             string `xml:"Name"`
	Description      string `xml:"Description"`
	IndexEnumeration string `xml:"IndexEnumeration"`
	AddedGenerics    string `xml:"AddedGenerics"`
	line             int
}

func parseSubsystems(r io.Reader, file string) ([]subsystemXML, error) {
	var out []subsystemXML
	isSub := func(n string) bool { return n == "SALSubsystem" }
	err := eachElement(r, file, isSub, func(dec *xml.Decoder, se xml.StartElement, line int) error {
		var s subsystemXML
		if err := dec.DecodeElement(&s, &se); err != nil {
			return &ParseError{File: file, Line: line, Err: fmt.Errorf("malformed XML: %w", err)}
		}
		s.line = line
		s.Name = strings.TrimSpace(s.Name)
		if s.Name == "" {
			return &ParseError{File: file, Line: line, Err: errors.New("SALSubsystem without Name")}
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fileKinds are a CSC's interface files, in component_info.py's order.
var fileKinds = []string{"Commands", "Events", "Telemetry"}

// LoadOption changes how Load reads interfaces.
type LoadOption func(*loadConfig)

type loadConfig struct {
	avro fs.FS
}

// Avro gives Load ts_xml's interfaces directory (the one beside
// sal_interfaces), whose <CSC>/*.avsc files define further topics of the
// camera CSCs (AvroCSCs). Without it those topics are left out.
func Avro(fsys fs.FS) LoadOption { return func(c *loadConfig) { c.avro = fsys } }

// LoadDir loads a ts_xml sal_interfaces directory, and the .avsc topics of
// the interfaces directory beside it when there is one (ts_xml's layout:
// data/sal_interfaces and data/interfaces).
func LoadDir(dir string) (*Interfaces, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("sal interfaces %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("sal interfaces %s: not a directory", dir)
	}
	var opts []LoadOption
	if st, err := os.Stat(filepath.Join(dir, "..", "interfaces")); err == nil && st.IsDir() {
		opts = append(opts, Avro(os.DirFS(filepath.Join(dir, "..", "interfaces"))))
	}
	ifaces, err := Load(os.DirFS(dir), opts...)
	if err != nil {
		return nil, fmt.Errorf("sal interfaces %s: %w", dir, err)
	}
	return ifaces, nil
}

// Load reads SALSubsystems.xml, SALGenerics.xml and <CSC>/<CSC>_*.xml from
// the root of fsys. A subsystem without a directory is left out, so a
// subset of ts_xml loads.
func Load(fsys fs.FS, opts ...LoadOption) (*Interfaces, error) {
	var cfg loadConfig
	for _, o := range opts {
		o(&cfg)
	}
	open := func(name string) (fs.File, error) {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return f, nil
	}
	f, err := open("SALSubsystems.xml")
	if err != nil {
		return nil, err
	}
	subsystems, err := parseSubsystems(f, "SALSubsystems.xml")
	f.Close()
	if err != nil {
		return nil, err
	}
	f, err = open("SALGenerics.xml")
	if err != nil {
		return nil, err
	}
	generics, err := parseTopics(f, "SALGenerics.xml")
	f.Close()
	if err != nil {
		return nil, err
	}
	genericByName := map[string]topicDef{}
	byCategory := map[string][]topicDef{}
	for _, g := range generics {
		name, ok := salName(g.efdbTopic)
		if !ok {
			return nil, &ParseError{File: g.file, Line: g.line, Topic: g.efdbTopic, Err: errors.New(`EFDB_Topic has no "SALGeneric_" prefix`)}
		}
		genericByName[name] = g
		if g.category != "" {
			byCategory[g.category] = append(byCategory[g.category], g)
		}
	}

	out := &Interfaces{Components: map[string]*Component{}}
	for _, s := range subsystems {
		if st, err := fs.Stat(fsys, s.Name); err != nil || !st.IsDir() {
			continue
		}
		if out.Components[s.Name] != nil {
			return nil, &ParseError{File: "SALSubsystems.xml", Line: s.line, Err: fmt.Errorf("subsystem %s listed twice", s.Name)}
		}
		c, err := buildComponent(fsys, s, genericByName, byCategory)
		if err != nil {
			return nil, err
		}
		if err := addAvsc(cfg.avro, c); err != nil {
			return nil, err
		}
		out.Components[s.Name] = c
	}
	return out, nil
}

func buildComponent(fsys fs.FS, s subsystemXML, genericByName map[string]topicDef, byCategory map[string][]topicDef) (*Component, error) {
	idx := strings.TrimSpace(s.IndexEnumeration)
	c := &Component{Name: s.Name, Description: strings.TrimSpace(s.Description), Indexed: idx != "no", byName: map[string]*Topic{}}
	if idx == "" {
		return nil, &ParseError{File: "SALSubsystems.xml", Line: s.line, Err: fmt.Errorf("subsystem %s has no IndexEnumeration", s.Name)}
	}
	if c.Indexed && idx != "any" {
		for _, n := range strings.Split(idx, ",") {
			c.IndexNames = append(c.IndexNames, strings.TrimSpace(n))
		}
	}
	c.AddedGenerics = []string{"mandatory"}
	for _, g := range strings.Split(s.AddedGenerics, ",") {
		if g = strings.TrimSpace(g); g != "" {
			c.AddedGenerics = append(c.AddedGenerics, g)
		}
	}
	var defs []topicDef
	for _, g := range c.AddedGenerics {
		if strings.Contains(g, "_") {
			d, ok := genericByName[g]
			if !ok {
				return nil, &ParseError{File: "SALSubsystems.xml", Line: s.line, Err: fmt.Errorf("subsystem %s: unknown generic topic %q in AddedGenerics", s.Name, g)}
			}
			defs = append(defs, d)
			continue
		}
		list, ok := byCategory[g]
		if !ok {
			return nil, &ParseError{File: "SALSubsystems.xml", Line: s.line, Err: fmt.Errorf("subsystem %s: unknown generic category %q in AddedGenerics", s.Name, g)}
		}
		defs = append(defs, list...)
	}
	for _, kind := range fileKinds {
		name := path.Join(s.Name, s.Name+"_"+kind+".xml")
		f, err := fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tds, err := parseTopics(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
		defs = append(defs, tds...)
	}
	for _, d := range defs {
		t, err := buildTopic(s.Name, c.Indexed, d)
		if err != nil {
			return nil, err
		}
		if c.byName[t.Name] != nil {
			return nil, &ParseError{File: d.file, Line: d.line, Topic: d.efdbTopic, Err: fmt.Errorf("topic %s already defined for %s", t.Name, s.Name)}
		}
		c.byName[t.Name] = t
		c.Topics = append(c.Topics, t)
	}
	ack := ackcmdTopic(s.Name, c.Indexed)
	if c.byName["ackcmd"] != nil {
		return nil, fmt.Errorf("%s: a topic named ackcmd is reserved", s.Name)
	}
	c.byName["ackcmd"] = ack
	c.Topics = append(c.Topics, ack)
	return c, nil
}
