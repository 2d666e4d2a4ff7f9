package sal

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"

	"github.com/lsst-ts/teststand/sal/sample"
)

// sharedDir is the real ts_xml set the tests read: $TS_XML_DIR, or
// ../shared/ts_xml/sal_interfaces beside the module root.
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TS_XML_DIR"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(filepath.Dir(d), "shared", "ts_xml", "sal_interfaces")
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("the real ts_xml interfaces are missing: set TS_XML_DIR or put shared/ts_xml beside the module (%v)", err)
			}
			return dir
		}
		if filepath.Dir(d) == d {
			t.Fatal("module root not found")
		}
	}
}

func loadSets(t testing.TB) map[string]*Interfaces {
	t.Helper()
	shared, err := LoadDir(sharedDir(t))
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := Load(sample.FS, Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*Interfaces{"ts_xml": shared, "sample": builtin}
	// The whole ts_xml, the camera's .avsc topics (nullable unions) among
	// them.
	full, _ := filepath.Abs("../../shared/ts_xml/full/python/lsst/ts/xml/data/sal_interfaces")
	all, err := LoadDir(full)
	if err != nil {
		t.Fatalf("the whole ts_xml is needed beside the module (shared/ts_xml/full): %v", err)
	}
	sets["ts_xml full"] = all
	return sets
}

var (
	reTopic    = regexp.MustCompile(`<EFDB_Topic>\s*([^<]+?)\s*</EFDB_Topic>`)
	reBlock    = regexp.MustCompile(`(?s)<(SALCommand|SALEvent)>(.*?)</(?:SALCommand|SALEvent)>`)
	reCategory = regexp.MustCompile(`<Category>\s*([^<]+?)\s*</Category>`)
	reSub      = regexp.MustCompile(`(?s)<SALSubsystem>.*?<Name>\s*([^<]+?)\s*</Name>.*?<AddedGenerics>([^<]*)</AddedGenerics>.*?</SALSubsystem>`)
)

// expectedCounts derives each CSC's topic count per kind from the raw
// files with regular expressions, independently of the XML parser.
func expectedCounts(t *testing.T, dir string) map[string]map[Kind]int {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return string(b)
	}
	byCategory := map[string][]string{}
	byName := map[string]string{}
	for _, m := range reBlock.FindAllStringSubmatch(read("SALGenerics.xml"), -1) {
		name := strings.TrimPrefix(reTopic.FindStringSubmatch(m[2])[1], "SALGeneric_")
		byName[name] = m[1]
		if c := reCategory.FindStringSubmatch(m[2]); c != nil {
			byCategory[c[1]] = append(byCategory[c[1]], name)
		}
	}
	kindOf := func(name string) Kind {
		switch {
		case strings.HasPrefix(name, "command_"):
			return Command
		case strings.HasPrefix(name, "logevent_"):
			return Event
		}
		return Telemetry
	}
	out := map[string]map[Kind]int{}
	for _, m := range reSub.FindAllStringSubmatch(read("SALSubsystems.xml"), -1) {
		csc := m[1]
		if _, err := os.Stat(filepath.Join(dir, csc)); err != nil {
			continue
		}
		counts := map[Kind]int{Ackcmd: 1}
		entries := []string{"mandatory"}
		for _, g := range strings.Split(m[2], ",") {
			if g = strings.TrimSpace(g); g != "" {
				entries = append(entries, g)
			}
		}
		for _, g := range entries {
			if _, ok := byName[g]; ok {
				counts[kindOf(g)]++
				continue
			}
			for _, name := range byCategory[g] {
				counts[kindOf(name)]++
			}
		}
		for kind, file := range map[Kind]string{Telemetry: "Telemetry", Event: "Events", Command: "Commands"} {
			if n := len(reTopic.FindAllString(read(filepath.Join(csc, csc+"_"+file+".xml")), -1)); n > 0 {
				counts[kind] += n
			}
		}
		out[csc] = counts
	}
	return out
}

func TestTopicCountsMatchFiles(t *testing.T) {
	dir := sharedDir(t)
	ifaces, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedCounts(t, dir)
	if len(want) < 9 || len(ifaces.Components) != len(want) {
		t.Fatalf("loaded %d CSCs, files have %d", len(ifaces.Components), len(want))
	}
	for csc, counts := range want {
		c := ifaces.Component(csc)
		if c == nil {
			t.Errorf("%s not loaded", csc)
			continue
		}
		got := map[Kind]int{}
		for _, tp := range c.Topics {
			got[tp.Kind]++
		}
		if d := cmp.Diff(counts, got); d != "" {
			t.Errorf("%s topic counts per kind (-files +loaded):\n%s", csc, d)
		}
	}
}

func TestNamesAndFields(t *testing.T) {
	sets := loadSets(t)
	for name, ifaces := range sets {
		pos := ifaces.Topic("ATDome", "position")
		if pos == nil {
			t.Fatalf("%s: ATDome position missing", name)
		}
		if got := pos.KafkaTopic(""); got != "lsst.sal.ATDome.position" {
			t.Errorf("%s: KafkaTopic %q", name, got)
		}
		if got := pos.Subject("sal"); got != "lsst.sal.ATDome.position-value" {
			t.Errorf("%s: Subject %q", name, got)
		}
		if got := pos.KafkaTopic("test"); got != "lsst.test.ATDome.position" {
			t.Errorf("%s: KafkaTopic with subname %q", name, got)
		}
		if pos.Namespace() != "lsst.sal.ATDome" || pos.FullName() != "lsst.sal.ATDome.position" {
			t.Errorf("%s: namespace %q", name, pos.Namespace())
		}
		wantPrivate := []string{"private_sndStamp", "private_rcvStamp", "private_efdStamp", "private_kafkaStamp", "private_seqNum", "private_revCode", "private_identity", "private_origin"}
		var got []string
		for _, f := range pos.Fields[:8] {
			got = append(got, f.Name)
		}
		if d := cmp.Diff(wantPrivate, got); d != "" {
			t.Errorf("%s: private fields:\n%s", name, d)
		}
		if f := pos.Fields[pos.FieldIndex("azimuthEncoderPosition")]; f.AvroType != "long" {
			t.Errorf("%s: long long → %s, want long", name, f.AvroType)
		}
		hexa := ifaces.Component("MTHexapod")
		if !hexa.Indexed || len(hexa.IndexNames) != 2 {
			t.Errorf("%s: MTHexapod indexed %v names %v", name, hexa.Indexed, hexa.IndexNames)
		}
		for _, tp := range hexa.Topics {
			if tp.Fields[0].Name != "salIndex" || tp.Fields[0].AvroType != "int" {
				t.Errorf("%s: %s first field %s", name, tp.Name, tp.Fields[0].Name)
			}
		}
		ack := ifaces.Topic("ATDome", "ackcmd")
		var ackNames []string
		for _, f := range ack.Fields[8:] {
			ackNames = append(ackNames, f.Name+":"+f.AvroType)
		}
		if d := cmp.Diff([]string{"ack:int", "error:int", "result:string", "identity:string", "origin:int", "cmdtype:int", "timeout:double"}, ackNames); d != "" {
			t.Errorf("%s: ackcmd fields:\n%s", name, d)
		}
		for _, n := range []string{"logevent_heartbeat", "logevent_summaryState", "command_start", "logevent_configurationApplied"} {
			if ifaces.Topic("ATDome", n) == nil {
				t.Errorf("%s: ATDome generic %s missing", name, n)
			}
		}
		if ifaces.Topic("ATDome", "command_enterControl") != nil {
			t.Errorf("%s: ATDome has command_enterControl without asking for it", name)
		}
	}
}

// fill sets every field to a non-default value.
func fill(s *Sample, rng *rand.Rand) {
	for i, f := range s.Topic.Fields {
		var v any
		switch f.AvroType {
		case "boolean":
			v = true
			if f.IsArray() {
				a := make([]bool, f.Count)
				for j := range a {
					a[j] = rng.IntN(2) == 1
				}
				v = a
			}
		case "int":
			v = int32(rng.Int32()) - 1<<30
			if f.IsArray() {
				a := make([]int32, f.Count)
				for j := range a {
					a[j] = rng.Int32() - 1<<30
				}
				v = a
			}
		case "long":
			v = rng.Int64() - 1<<62
			if f.IsArray() {
				a := make([]int64, f.Count)
				for j := range a {
					a[j] = rng.Int64() - 1<<62
				}
				v = a
			}
		case "float":
			v = float32(rng.NormFloat64())
			if f.IsArray() {
				a := make([]float32, f.Count)
				for j := range a {
					a[j] = float32(rng.NormFloat64())
				}
				v = a
			}
		case "double":
			v = rng.NormFloat64() * 1e9
			if f.IsArray() {
				a := make([]float64, f.Count)
				for j := range a {
					a[j] = rng.NormFloat64()
				}
				v = a
			}
		case "string":
			v = strings.Repeat("é", rng.IntN(5)) + "x"
		}
		if f.Nullable && rng.IntN(3) == 0 {
			v = nil
		}
		if err := s.Set(f.Name, v); err != nil {
			panic(err)
		}
		_ = i
	}
}

// TestEveryTopicSchemaAndRoundTrip checks, for every topic of both sets,
// that the schema parses in goavro and hamba/avro, that our encoding is
// byte for byte goavro's, and that decoding gives the sample back.
func TestEveryTopicSchemaAndRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for set, ifaces := range loadSets(t) {
		for _, csc := range ifaces.Names() {
			for _, tp := range ifaces.Component(csc).Topics {
				total++
				codec, err := goavro.NewCodec(tp.Schema())
				if err != nil {
					t.Fatalf("%s %s.%s: goavro: %v", set, csc, tp.Name, err)
				}
				if _, err := avro.ParseWithCache(tp.Schema(), "", &avro.SchemaCache{}); err != nil {
					t.Fatalf("%s %s.%s: hamba/avro: %v", set, csc, tp.Name, err)
				}
				s := NewSample(tp)
				fill(s, rng)
				ours, err := tp.AppendAvro(nil, s)
				if err != nil {
					t.Fatalf("%s %s.%s: %v", set, csc, tp.Name, err)
				}
				theirs, err := codec.BinaryFromNative(nil, s.Native())
				if err != nil {
					t.Fatalf("%s %s.%s: goavro encode: %v", set, csc, tp.Name, err)
				}
				if !bytes.Equal(ours, theirs) {
					t.Fatalf("%s %s.%s: encoding differs from goavro's", set, csc, tp.Name)
				}
				back, err := tp.DecodeAvro(ours)
				if err != nil {
					t.Fatalf("%s %s.%s: decode: %v", set, csc, tp.Name, err)
				}
				if d := cmp.Diff(s.Values, back.Values); d != "" {
					t.Fatalf("%s %s.%s: round trip:\n%s", set, csc, tp.Name, d)
				}
				if _, err := tp.DecodeAvro(ours[:len(ours)-1]); err == nil && len(ours) > 0 {
					t.Fatalf("%s %s.%s: truncated data decoded without error", set, csc, tp.Name)
				}
			}
		}
	}
	if total < 500 {
		t.Errorf("only %d topics checked", total)
	}
}

func TestSchemaStable(t *testing.T) {
	a, b := loadSets(t)["ts_xml"], loadSets(t)["ts_xml"]
	for _, csc := range a.Names() {
		for _, tp := range a.Component(csc).Topics {
			if tp.Schema() != b.Topic(csc, tp.Name).Schema() {
				t.Fatalf("%s.%s: schema differs between loads", csc, tp.Name)
			}
		}
	}
	pos := a.Topic("ATDome", "position").Schema()
	if !strings.HasPrefix(pos, `{"type": "record", "name": "position", "namespace": "lsst.sal.ATDome", "fields": [{"name": "private_sndStamp", "type": "double", "default": 0.0, "description": "Time of instance publication", "units": "second"}`) {
		t.Errorf("ATDome position schema starts %.200s", pos)
	}
}

const subsystems = `<SALSubsystemSet><SALSubsystem><Name>X</Name><IndexEnumeration>no</IndexEnumeration><AddedGenerics>csc</AddedGenerics></SALSubsystem></SALSubsystemSet>`
const generics = `<SALObjects><SALEventSet><SALEvent><EFDB_Topic>SALGeneric_logevent_heartbeat</EFDB_Topic><Category>mandatory</Category></SALEvent>
<SALEvent><EFDB_Topic>SALGeneric_logevent_summaryState</EFDB_Topic><Category>csc</Category></SALEvent></SALEventSet></SALObjects>`

func telemetry(items string) string {
	return "<SALTelemetrySet>\n<SALTelemetry>\n<EFDB_Topic>X_t</EFDB_Topic>\n" + items + "</SALTelemetry>\n</SALTelemetrySet>\n"
}

func TestBadXML(t *testing.T) {
	item := func(name, typ, count string) string {
		return "<item>\n<EFDB_Name>" + name + "</EFDB_Name>\n<IDL_Type>" + typ + "</IDL_Type>\n<Count>" + count + "</Count>\n</item>\n"
	}
	cases := []struct {
		name, file, body, want string
	}{
		{"duplicate field", "X/X_Telemetry.xml", telemetry(item("a", "int", "1") + item("a", "int", "1")), "X/X_Telemetry.xml:9: topic X_t: field a: duplicate field"},
		{"private name", "X/X_Telemetry.xml", telemetry(item("private_seqNum", "int", "1")), "field private_seqNum: duplicate field"},
		{"unknown type", "X/X_Telemetry.xml", telemetry(item("a", "quad", "1")), `X/X_Telemetry.xml:4: topic X_t: field a: unknown IDL_Type "quad"`},
		{"zero count", "X/X_Telemetry.xml", telemetry(item("a", "int", "0")), `field a: Count "0": want an integer > 0`},
		{"bad count", "X/X_Telemetry.xml", telemetry(item("a", "int", "many")), `field a: Count "many"`},
		{"no name", "X/X_Telemetry.xml", telemetry("<item>\n<IDL_Type>int</IDL_Type>\n</item>\n"), "X/X_Telemetry.xml:4: topic X_t: item without EFDB_Name"},
		{"duplicate topic", "X/X_Telemetry.xml", "<SALTelemetrySet><SALTelemetry><EFDB_Topic>X_t</EFDB_Topic></SALTelemetry>\n<SALTelemetry><EFDB_Topic>X_t</EFDB_Topic></SALTelemetry></SALTelemetrySet>", "X/X_Telemetry.xml:2: topic X_t: topic t already defined"},
		{"generic clash", "X/X_Events.xml", "<SALEventSet><SALEvent><EFDB_Topic>X_logevent_heartbeat</EFDB_Topic></SALEvent></SALEventSet>", "topic logevent_heartbeat already defined"},
		{"malformed", "X/X_Telemetry.xml", "<SALTelemetrySet><SALTelemetry>\n<EFDB_Topic>X_t</EFDB_Topic>\n<item><EFDB_Name>a</item>", "X/X_Telemetry.xml:3: topic X_t: malformed XML"},
		{"no prefix", "X/X_Telemetry.xml", telemetry("")[0:0] + "<SALTelemetrySet><SALTelemetry><EFDB_Topic>noprefix</EFDB_Topic></SALTelemetry></SALTelemetrySet>", `EFDB_Topic has no "<Subsystem>_" prefix`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"SALSubsystems.xml": {Data: []byte(subsystems)},
				"SALGenerics.xml":   {Data: []byte(generics)},
				c.file:              {Data: []byte(c.body)},
			}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	t.Run("unknown generic", func(t *testing.T) {
		fsys := fstest.MapFS{
			"SALSubsystems.xml": {Data: []byte(strings.Replace(subsystems, ">csc<", ">csc, logevent_nope<", 1))},
			"SALGenerics.xml":   {Data: []byte(generics)},
			"X/X_Telemetry.xml": {Data: []byte(telemetry(""))},
		}
		if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), `unknown generic topic "logevent_nope"`) {
			t.Fatalf("error %v", err)
		}
	})
}

// FuzzParseTopics feeds arbitrary interface files to the loader: it must
// return a topic set or an error, never panic, and whatever it accepts
// must encode and decode.
func FuzzParseTopics(f *testing.F) {
	f.Add(telemetry("<item><EFDB_Name>a</EFDB_Name><IDL_Type>int</IDL_Type><Count>3</Count></item>"))
	f.Add(telemetry("<item><EFDB_Name>s</EFDB_Name><IDL_Type>string</IDL_Type><IDL_Size>8</IDL_Size></item>"))
	f.Add("<SALTelemetrySet><SALTelemetry><EFDB_Topic>X_t</EFDB_Topic>")
	f.Fuzz(func(t *testing.T, body string) {
		fsys := fstest.MapFS{
			"SALSubsystems.xml": {Data: []byte(subsystems)},
			"SALGenerics.xml":   {Data: []byte(generics)},
			"X/X_Telemetry.xml": {Data: []byte(body)},
		}
		ifaces, err := Load(fsys)
		if err != nil {
			return
		}
		for _, tp := range ifaces.Component("X").Topics {
			if tp.Count() > 100000 {
				continue
			}
			b, err := tp.AppendAvro(nil, NewSample(tp))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tp.DecodeAvro(b); err != nil {
				t.Fatal(err)
			}
		}
	})
}
