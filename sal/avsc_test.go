package sal

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestAvscErrors: an .avsc ts_xml's code would not take the same way is
// refused with the file, the field and why, and nothing is loaded.
func TestAvscErrors(t *testing.T) {
	const subsystem = `<SALSubsystemSet><SALSubsystem><Name>ATCamera</Name><IndexEnumeration>no</IndexEnumeration><AddedGenerics>csc</AddedGenerics></SALSubsystem></SALSubsystemSet>`
	const generics = `<SALGenerics><SALEvent><EFDB_Topic>SALGeneric_logevent_heartbeat</EFDB_Topic><Category>mandatory</Category></SALEvent><SALEvent><EFDB_Topic>SALGeneric_logevent_logLevel</EFDB_Topic><Category>csc</Category></SALEvent></SALGenerics>`
	field := func(f string) string {
		return `{"type": "record", "name": "power", "namespace": "lsst.sal.ATCamera", "fields": [` + f + `]}`
	}
	for _, tc := range []struct {
		name, avsc, want string
	}{
		{"malformed", `{"type": "record",`, "../interfaces/ATCamera/power.avsc:1: malformed JSON"},
		{"not a record", `{"type": "enum", "name": "power", "namespace": "lsst.sal.ATCamera", "fields": []}`, `type "enum": want "record"`},
		{"namespace", `{"type": "record", "name": "power", "namespace": "lsst.sal.MTCamera", "fields": []}`, `namespace "lsst.sal.MTCamera": want "lsst.sal.ATCamera"`},
		{"unknown record key", `{"type": "record", "name": "power", "namespace": "lsst.sal.ATCamera", "aliases": ["p"], "fields": []}`, `key "aliases": not taken`},
		{"no description", field(`{"name": "V", "type": "double"}`), "field V: no description"},
		{"union", field(`{"name": "V", "type": ["double", "null"], "default": 0.0, "description": "d"}`), `field V: type ["double", "null"]: the only union taken`},
		{"nullable without default", field(`{"name": "V", "type": ["null", "double"], "description": "d"}`), `field V: a ["null", …] field without "default": null`},
		{"non-zero default", field(`{"name": "V", "type": "double", "default": 1.5, "description": "d"}`), "field V: default 1.5: only 0.0"},
		{"array", field(`{"name": "V", "type": {"type": "array", "items": "double"}, "description": "d"}`), "field V: type"},
		{"bytes", field(`{"name": "V", "type": "bytes", "description": "d"}`), "field V: type \"bytes\": want boolean"},
		{"private name", field(`{"name": "private_seqNum", "type": "long", "description": "d"}`), "field private_seqNum: a private field's name"},
		{"duplicate", field(`{"name": "V", "type": "long", "description": "d"}, {"name": "V", "type": "long", "description": "d"}`), "field V: duplicate field"},
		{"unknown field key", field(`{"name": "V", "type": "long", "description": "d", "doc": "x"}`), `field V: key "doc": not taken`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xml := fstest.MapFS{
				"SALSubsystems.xml":               {Data: []byte(subsystem)},
				"SALGenerics.xml":                 {Data: []byte(generics)},
				"ATCamera/ATCamera_Telemetry.xml": {Data: []byte(`<SALTelemetrySet/>`)},
			}
			avro := fstest.MapFS{"ATCamera/power.avsc": {Data: []byte(tc.avsc)}}
			ifaces, err := Load(xml, Avro(avro))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "../interfaces/ATCamera/power.avsc:1: ") {
				t.Fatalf("got %v (%v), want an error at ../interfaces/ATCamera/power.avsc:1 containing %q", err, ifaces != nil, tc.want)
			}
			if ifaces != nil {
				t.Fatal("interfaces returned with the error")
			}
		})
	}
}

// TestAvscTopic: an .avsc topic's fields come first and keep their
// properties; the private fields follow; it replaces the XML topic of the
// same name where that one stood.
func TestAvscTopic(t *testing.T) {
	const subsystem = `<SALSubsystemSet><SALSubsystem><Name>ATCamera</Name><IndexEnumeration>no</IndexEnumeration><AddedGenerics>csc</AddedGenerics></SALSubsystem></SALSubsystemSet>`
	const generics = `<SALGenerics><SALEvent><EFDB_Topic>SALGeneric_logevent_heartbeat</EFDB_Topic><Category>mandatory</Category></SALEvent><SALEvent><EFDB_Topic>SALGeneric_logevent_logLevel</EFDB_Topic><Category>csc</Category></SALEvent></SALGenerics>`
	const tel = `<SALTelemetrySet><SALTelemetry><EFDB_Topic>ATCamera_power</EFDB_Topic><item><EFDB_Name>x</EFDB_Name><IDL_Type>double</IDL_Type></item></SALTelemetry><SALTelemetry><EFDB_Topic>ATCamera_wreb</EFDB_Topic></SALTelemetry></SALTelemetrySet>`
	xml := fstest.MapFS{
		"SALSubsystems.xml":               {Data: []byte(subsystem)},
		"SALGenerics.xml":                 {Data: []byte(generics)},
		"ATCamera/ATCamera_Telemetry.xml": {Data: []byte(tel)},
	}
	avro := fstest.MapFS{"ATCamera/power.avsc": {Data: []byte(`{"type": "record", "name": "lsst.sal.ATCamera.power", "fields": [
		{"name": "t", "type": "long", "units": "ms", "description": "when"},
		{"name": "V", "type": ["null", "double"], "default": null, "description": "volts", "units": "V"}]}`)}}
	ifaces, err := Load(xml, Avro(avro))
	if err != nil {
		t.Fatal(err)
	}
	c := ifaces.Component("ATCamera")
	var names []string
	for _, tp := range c.Topics {
		names = append(names, tp.Name)
	}
	if got := strings.Join(names, " "); got != "logevent_heartbeat logevent_logLevel power wreb ackcmd" {
		t.Fatalf("topics %s: want the .avsc power in the XML one's place", got)
	}
	p := c.Topic("power")
	if !p.Avsc || p.Fields[0].Name != "t" || p.Fields[1].Name != "V" || !p.Fields[1].Nullable || !p.Fields[0].NoDefault || p.Fields[2].Name != "private_sndStamp" {
		t.Fatalf("fields %+v", p.Fields[:3])
	}
	want := `{"type": "record", "name": "power", "fields": [{"units": "ms", "description": "when", "name": "t", "type": "long"}, {"description": "volts", "units": "V", "default": null, "name": "V", "type": ["null", "double"]}, {"name": "private_sndStamp"`
	if !strings.HasPrefix(p.Schema(), want) || !strings.HasSuffix(p.Schema(), `], "namespace": "lsst.sal.ATCamera"}`) {
		t.Fatalf("schema %s", p.Schema())
	}
}
