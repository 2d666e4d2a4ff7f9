package saltransform

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// sharedDir is the real ts_xml set: $TS_XML_DIR, or
// ../shared/ts_xml/sal_interfaces beside the module root.
func sharedDir(t *testing.T) string {
	if d := os.Getenv("TS_XML_DIR"); d != "" {
		return d
	}
	dir, err := filepath.Abs("../../shared/ts_xml/sal_interfaces")
	if err == nil {
		_, err = os.Stat(dir)
	}
	if err != nil {
		t.Fatalf("the real ts_xml interfaces are missing: set TS_XML_DIR or put shared/ts_xml beside the module (%v)", err)
	}
	return dir
}

// fill gives every field a random value of its type, strings with the
// characters the format must escape or keep (quotes, commas, parentheses).
func fill(s *sal.Sample, r *rand.Rand) {
	words := []string{"", "plain", "it's", "a, b", "(x)", "''", "ends'", " spaced "}
	for i, f := range s.Topic.Fields {
		if f.Nullable { // null one time in two, else a value of the type
			s.Values[i] = nil
			if r.IntN(2) == 0 {
				continue
			}
			s.Values[i] = map[string]any{"boolean": false, "int": int32(0), "long": int64(0), "float": float32(0), "double": 0.0, "string": ""}[f.AvroType]
		}
		switch v := s.Values[i].(type) {
		case bool:
			s.Values[i] = r.IntN(2) == 1
		case int32:
			s.Values[i] = int32(r.Uint32())
		case int64:
			s.Values[i] = int64(r.Uint64())
		case float32:
			s.Values[i] = float32(r.NormFloat64() * 1e3)
		case float64:
			s.Values[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
		case string:
			s.Values[i] = words[r.IntN(len(words))]
		case []bool:
			for j := range v {
				v[j] = r.IntN(2) == 1
			}
		case []int32:
			for j := range v {
				v[j] = int32(r.Uint32())
			}
		case []int64:
			for j := range v {
				v[j] = int64(r.Uint64())
			}
		case []float32:
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
		case []float64:
			for j := range v {
				v[j] = r.NormFloat64() * 1e-7
			}
		default:
			panic(f.Name)
		}
	}
}

func builtin(t *testing.T) *sal.Interfaces {
	ifs, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	return ifs
}

// TestRoundTrip formats and parses random samples of every topic of the
// project's sample interfaces and of the real ts_xml set: the sample read
// back equals the one written, value for value (private_efdStamp and
// private_kafkaStamp aside, which the text does not carry).
func TestRoundTrip(t *testing.T) {
	real, err := sal.LoadDir(sharedDir(t))
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*sal.Interfaces{"builtin": builtin(t), "ts_xml": real}
	for name, ifs := range sets {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			n := 0
			for _, csc := range ifs.Names() {
				for _, tp := range ifs.Component(csc).Topics {
					s := sal.NewSample(tp)
					fill(s, r)
					for _, f := range []string{"private_efdStamp", "private_kafkaStamp"} {
						s.Values[tp.FieldIndex(f)] = 0.0
					}
					line := Format(s)
					back, err := Parse(ifs, line)
					if err != nil {
						t.Fatalf("%s.%s: %v\n%s", csc, tp.Name, err, line)
					}
					if !reflect.DeepEqual(back.Values, s.Values) {
						for i := range s.Values {
							if !reflect.DeepEqual(back.Values[i], s.Values[i]) {
								t.Fatalf("%s.%s field %s: wrote %#v, read %#v\n%s", csc, tp.Name, tp.Fields[i].Name, s.Values[i], back.Values[i], line)
							}
						}
					}
					n++
				}
			}
			if n < 10 {
				t.Fatalf("only %d topics", n)
			}
			t.Logf("%d topics round-tripped", n)
		})
	}
}

func TestFormatShape(t *testing.T) {
	ifs := builtin(t)
	tp := ifs.Topic("ATDome", "position")
	s := sal.NewSample(tp)
	s.Values[tp.FieldIndex("private_revCode")] = "c0ffee"
	s.Values[tp.FieldIndex("private_sndStamp")] = 1.7e9 + 0.25
	s.Values[tp.FieldIndex("private_seqNum")] = int32(7)
	s.Values[tp.FieldIndex("private_identity")] = "ATDome"
	line := Format(s)
	if !strings.HasPrefix(line, "ATDome ATDome_position:( 'c0ffee', 1.70000000025e+09, 0, 7, 'ATDome', 0, ") || !strings.HasSuffix(line, " )") {
		t.Fatalf("line %q", line)
	}
	// The example the README gives.
	ex, err := Parse(ifs, "ATDome ATDome_position:( 'c0ffee', 1700000000.25, 1700000000.26, 7, 'ATDome', 4242, 0, 100, 181.25, 51532 )")
	if err != nil || ex.Get("azimuthEncoderPosition") != int64(51532) || ex.Get("private_origin") != int32(4242) {
		t.Fatalf("the README's example: %v, %v", ex, err)
	}
	if got := InputTopic(tp); got != "ATDome_telemetry" {
		t.Errorf("input topic %s", got)
	}
	if got := OutputTopic(tp); got != "lsst.sal.ATDome_position" {
		t.Errorf("output topic %s", got)
	}
}

// TestParseErrors: a bad line names what is wrong and where.
func TestParseErrors(t *testing.T) {
	ifs := builtin(t)
	good := Format(sal.NewSample(ifs.Topic("ATDome", "position")))
	cases := []struct{ name, line, want, field string }{
		{"not text", "hello", "not SAL text", ""},
		{"unknown topic", "ATDome ATDome_nothing:( 'a' )", "no SAL topic ATDome.nothing", ""},
		{"wrong prefix", "ATDome MTMount_position:( 'a' )", `does not start with ATDome_`, ""},
		{"too few values", strings.Replace(good, ", 0 )", " )", 1), "the line ends after 9 values", "azimuthEncoderPosition"},
		{"too many values", strings.Replace(good, " )", ", 5 )", 1), "has", ""},
		{"not a number", strings.Replace(good, "'', 0, 0, 0,", "'', 0, 0, x,", 1), "invalid syntax", "private_seqNum"},
		{"unquoted string", strings.Replace(good, "( ''", "( abc", 1), "not a quoted string", "private_revCode"},
		{"open quote", strings.Replace(good, "( ''", "( 'abc", 1), "not closed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(ifs, c.line)
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || pe.Field != c.field {
				t.Fatalf("line %q: error %v (field %q); want %q in field %q", c.line, err, fieldOf(pe), c.want, c.field)
			}
		})
	}
}

func fieldOf(pe *ParseError) string {
	if pe == nil {
		return ""
	}
	return pe.Field
}
