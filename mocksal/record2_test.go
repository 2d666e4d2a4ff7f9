package mocksal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

func sampleInterfaces(t *testing.T) *sal.Interfaces {
	t.Helper()
	ifaces, err := sal.Load(sample.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ifaces
}

// written generates n samples of topic (index for an indexed CSC) as a
// writer would, with origin and seqNums from first.
func written(t *testing.T, topic *sal.Topic, index int32, origin int32, first int32, n int) []*sal.Sample {
	t.Helper()
	bus := dds.NewBus()
	defer bus.Close()
	r, _ := bus.Subscribe(dds.ReaderConfig{Domain: 0, Topic: topic, Depth: n + 1})
	if _, err := Run(context.Background(), bus, WriterConfig{Topic: topic, Index: index, Count: n, Seed: uint64(first), Origin: origin}, nil); err != nil {
		t.Fatal(err)
	}
	var out []*sal.Sample
	for i := range n {
		s, _, err := r.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.Values[topic.FieldIndex("private_seqNum")] = first + int32(i)
		s.Values[topic.FieldIndex("private_rcvStamp")] = 1.5 // as a producer would leave it in Kafka
		s.Values[topic.FieldIndex("private_kafkaStamp")] = 2.5
		out = append(out, s)
	}
	return out
}

// recording writes samples as a recording of the current format, each
// under the topic's own schema, t spaced by dt.
func recording(t *testing.T, dt float64, samples ...*sal.Sample) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewRecordingWriter(&b, RecordingHeader{Started: time.Now(), Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples {
		n, err := w.Schema(s.Topic.CSC, s.Topic.Name, s.Topic.Subject(""), s.Topic.Schema())
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Topic.AppendAvro(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Sample(float64(i)*dt, n, 0, "", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRecorderWritesTheCurrentFormat: a DDS recording is of the current
// format, with one schema line per topic, before its first sample, and
// reads back with every value as written.
func TestRecorderWritesTheCurrentFormat(t *testing.T) {
	ifaces := sampleInterfaces(t)
	pos, hex := ifaces.Topic("ATDome", "position"), ifaces.Topic("MTHexapod", "actuators")
	bus := dds.NewBus()
	defer bus.Close()
	var rec bytes.Buffer
	r, err := NewRecorder(&rec)
	if err != nil {
		t.Fatal(err)
	}
	r.Attach(bus, 0)
	var writes []Write
	for _, w := range []WriterConfig{{Topic: pos, Count: 3}, {Topic: hex, Index: 2, Count: 2}} {
		if _, err := Run(context.Background(), bus, w, func(w Write) { writes = append(writes, w) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(rec.String()), "\n")
	kinds := ""
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case m["format"] == RecordingFormat:
			kinds += "H"
		case m["avsc"] != nil:
			kinds += "S"
			if m["avsc"] != ifaces.Topic(m["csc"].(string), m["topic"].(string)).Schema() || m["subject"] != "lsst.sal."+m["csc"].(string)+"."+m["topic"].(string)+"-value" {
				t.Errorf("schema line %s: want the topic's schema and subject", l[:min(len(l), 200)])
			}
		case m["t"] != nil:
			kinds += "s"
		}
	}
	if kinds != "HSsssSss" {
		t.Fatalf("line kinds %q, want header, schema, 3 samples, schema, 2 samples", kinds)
	}
	i := 0
	err = ReadRecording(ifaces, bytes.NewReader(rec.Bytes()), func(rs RecordedSample) error {
		if !reflect.DeepEqual(rs.Sample.Values, writes[i].Values) {
			t.Errorf("sample %d (line %d) differs from what was written", i, rs.Line)
		}
		i++
		return nil
	})
	if err != nil || i != 5 {
		t.Fatalf("read %d samples: %v", i, err)
	}
}

// TestReplayRenumbersPerWriter: a recording taken from Kafka holds
// several writers' seqNums (a CSC restarted mid-recording: origin 7 with
// seqNums 40.., then origin 8 from 1; two indices of one topic). Replayed
// with one origin, each (CSC, index, topic) is numbered 1..n in recording
// order; replayed with one origin per CSC index, likewise; replayed with
// the recorded origins, per recorded origin. Stamps are fresh or 0, every
// other value as recorded.
func TestReplayRenumbersPerWriter(t *testing.T) {
	ifaces := sampleInterfaces(t)
	pos, act := ifaces.Topic("ATDome", "position"), ifaces.Topic("MTHexapod", "actuators")
	var all []*sal.Sample
	all = append(all, written(t, pos, 0, 7, 40, 3)...)
	all = append(all, written(t, pos, 0, 8, 1, 2)...)
	h1, h2 := written(t, act, 1, 9, 5, 2), written(t, act, 2, 9, 5, 2)
	all = append(all, h1[0], h2[0], h1[1], h2[1])
	rec := recording(t, 0.001, all...)
	cases := []struct {
		name string
		cfg  ReplayConfig
		want []string // writer/origin/seq of each replayed sample
	}{
		{"one origin", ReplayConfig{Domain: -1, Origin: 5},
			[]string{"ATDome.position/5/1", "ATDome.position/5/2", "ATDome.position/5/3", "ATDome.position/5/4", "ATDome.position/5/5",
				"MTHexapod:1.actuators/5/1", "MTHexapod:2.actuators/5/1", "MTHexapod:1.actuators/5/2", "MTHexapod:2.actuators/5/2"}},
		{"an origin per CSC index", ReplayConfig{Domain: -1, Origin: 5, OriginOf: func(csc string, index int32) int32 { return 100 + index }},
			[]string{"ATDome.position/100/1", "ATDome.position/100/2", "ATDome.position/100/3", "ATDome.position/100/4", "ATDome.position/100/5",
				"MTHexapod:1.actuators/101/1", "MTHexapod:2.actuators/102/1", "MTHexapod:1.actuators/101/2", "MTHexapod:2.actuators/102/2"}},
		{"recorded origins", ReplayConfig{Domain: -1},
			[]string{"ATDome.position/7/1", "ATDome.position/7/2", "ATDome.position/7/3", "ATDome.position/8/1", "ATDome.position/8/2",
				"MTHexapod:1.actuators/9/1", "MTHexapod:2.actuators/9/1", "MTHexapod:1.actuators/9/2", "MTHexapod:2.actuators/9/2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := dds.NewBus()
			defer bus.Close()
			readers := map[*sal.Topic]*dds.Reader{}
			for _, tp := range []*sal.Topic{pos, act} {
				readers[tp], _ = bus.Subscribe(dds.ReaderConfig{Domain: 0, Topic: tp, Depth: 20})
			}
			before := sal.TAINow()
			var got []string
			n, err := Replay(context.Background(), bus, ifaces, bytes.NewReader(rec), c.cfg, func(w Write) {
				got = append(got, fmt.Sprintf("%s/%d/%d", RecordedTopic{CSC: w.CSC, Index: w.Index, Topic: w.Topic}, w.Origin, w.SeqNum))
			})
			if err != nil || n != len(all) {
				t.Fatalf("replayed %d, %v", n, err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("replayed\n  %v\nwant\n  %v", got, c.want)
			}
			for i, orig := range all {
				s, _, err := readers[orig.Topic].Read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for j, f := range orig.Topic.Fields {
					v := s.Values[j]
					switch f.Name {
					case "private_sndStamp":
						if v.(float64) < before {
							t.Errorf("sample %d: sndStamp %v is not the replay's", i, v)
						}
					case "private_rcvStamp":
						// The bus's reader stamps it on reading.
					case "private_efdStamp", "private_kafkaStamp":
						if v != 0.0 {
							t.Errorf("sample %d: %s %v, want 0 as a writer leaves it", i, f.Name, v)
						}
					case "private_seqNum", "private_origin":
					default:
						if !reflect.DeepEqual(v, orig.Values[j]) {
							t.Errorf("sample %d: %s %v, recorded %v", i, f.Name, v, orig.Values[j])
						}
					}
				}
			}
		})
	}
}

// reordered is topic's schema with its fields in reverse order: what
// another release of the interfaces, or another producer, might carry.
func reordered(t *testing.T, topic *sal.Topic) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(topic.Schema()), &m); err != nil {
		t.Fatal(err)
	}
	fields := m["fields"].([]any)
	slices.Reverse(fields)
	b, _ := json.Marshal(m)
	return string(b)
}

// native is s as goavro takes it.
func native(s *sal.Sample) map[string]any {
	rec := map[string]any{}
	for i, f := range s.Topic.Fields {
		v := reflect.ValueOf(s.Values[i])
		if v.Kind() == reflect.Slice {
			items := make([]any, v.Len())
			for j := range items {
				items[j] = v.Index(j).Interface()
			}
			rec[f.Name] = items
			continue
		}
		rec[f.Name] = s.Values[i]
	}
	return rec
}

// TestCarriedSchemaDecodes: a sample written under a schema whose fields
// are in another order than the loaded topic's is decoded with its own
// schema and mapped onto the topic by field name, every value intact.
func TestCarriedSchemaDecodes(t *testing.T) {
	ifaces := sampleInterfaces(t)
	for _, tp := range []*sal.Topic{ifaces.Topic("MTHexapod", "actuators"), ifaces.Topic("MTM1M3", "forceActuatorData"), ifaces.Topic("Test", "arrays")} {
		if tp == nil {
			continue
		}
		t.Run(tp.Name, func(t *testing.T) {
			orig := written(t, tp, 1, 3, 1, 2)
			avsc := reordered(t, tp)
			codec, err := goavro.NewCodec(avsc)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			w, _ := NewRecordingWriter(&b, RecordingHeader{Started: time.Now()})
			n, _ := w.Schema(tp.CSC, tp.Name, "x-value", avsc)
			for _, s := range orig {
				data, err := codec.BinaryFromNative(nil, native(s))
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Sample(0, n, 0, "", data); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			i := 0
			err = ReadRecording(ifaces, &b, func(rs RecordedSample) error {
				if !reflect.DeepEqual(rs.Sample.Values, orig[i].Values) {
					t.Errorf("sample %d differs after decoding with the carried schema", i)
				}
				i++
				return nil
			})
			if err != nil || i != len(orig) {
				t.Fatalf("read %d: %v", i, err)
			}
		})
	}
}

// TestBadRecordings: each way a recording can be wrong is one error
// naming the line and, where there is one, the topic and the field.
func TestBadRecordings(t *testing.T) {
	ifaces := sampleInterfaces(t)
	pos := ifaces.Topic("ATDome", "position")
	good := recording(t, 0.01, written(t, pos, 0, 3, 1, 2)...)
	lines := strings.SplitAfter(string(good), "\n") // header, schema, sample, sample, ""
	schemaWith := func(edit func(fields []any) []any) string {
		var m map[string]any
		json.Unmarshal([]byte(pos.Schema()), &m)
		m["fields"] = edit(m["fields"].([]any))
		avsc, _ := json.Marshal(m)
		line, _ := json.Marshal(map[string]any{"schema": 1, "csc": "ATDome", "topic": "position", "subject": "s", "avsc": string(avsc)})
		return string(line) + "\n"
	}
	field := func(fields []any, name string) int {
		return slices.IndexFunc(fields, func(f any) bool { return f.(map[string]any)["name"] == name })
	}
	typeChanged := schemaWith(func(fs []any) []any {
		fs[field(fs, "azimuthPosition")].(map[string]any)["type"] = "int"
		return fs
	})
	dropped := schemaWith(func(fs []any) []any {
		return slices.Delete(fs, field(fs, "azimuthPosition"), field(fs, "azimuthPosition")+1)
	})
	added := schemaWith(func(fs []any) []any {
		return append(fs, map[string]any{"name": "newItem", "type": "double", "default": 0.0})
	})
	otherTopic := strings.Replace(lines[1], `"topic":"position"`, `"topic":"nope"`, 1)
	truncated := lines[3][:len(lines[3])/2]
	cases := []struct{ name, in, want string }{
		{"empty", "", "line 1: empty recording"},
		{"not json", "garbage\n", "line 1: not a recording"},
		{"no format", "{}\n", `line 1: not a recording: the header has no "format"`},
		{"unknown format", `{"format":"teststand-recording/9"}` + "\n", `line 1: unknown recording format "teststand-recording/9"`},
		{"truncated", lines[0] + lines[1] + lines[2] + truncated, "line 4: corrupt line"},
		{"corrupt base64", lines[0] + lines[1] + strings.Replace(lines[2], `"avro":"`, `"avro":"!!`, 1), "line 3: ATDome.position: avro"},
		{"short avro", lines[0] + lines[1] + `{"t":0,"schema":1,"domain":0,"prefix":"","avro":"AAAA"}` + "\n", "line 3: ATDome.position: field"},
		{"unknown key", lines[0] + lines[1] + strings.Replace(lines[2], `"t":`, `"x":1,"t":`, 1), `line 3: corrupt line: json: unknown field "x"`},
		{"neither kind", lines[0] + `{"domain":0}` + "\n", "line 2: neither a schema line"},
		{"undefined schema", lines[0] + lines[2], "line 2: schema 1 is not defined on an earlier line"},
		{"schema twice", lines[0] + lines[1] + lines[1], "line 3: schema 1 defined again (first on line 2)"},
		{"topic not loaded", lines[0] + otherTopic + lines[2], "line 3: ATDome.nope: schema 1 (line 2): not in the loaded interfaces"},
		{"type changed", lines[0] + typeChanged + lines[2], `line 3: ATDome.position: schema 1 (line 2): the recording's fields differ from the loaded interfaces': field "azimuthPosition" is int in the recording, double in the loaded interfaces`},
		{"field missing", lines[0] + dropped + lines[2], `line 3: ATDome.position: schema 1 (line 2): the recording's fields differ from the loaded interfaces': field "azimuthPosition" of the loaded interfaces is not in the recording`},
		{"field added", lines[0] + added + lines[2], `field "newItem" (double) is not in the loaded interfaces`},
		{"no sample", lines[0] + lines[1], "holds no sample"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := dds.NewBus()
			defer bus.Close()
			_, err := Replay(context.Background(), bus, ifaces, strings.NewReader(c.in), ReplayConfig{Domain: -1}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if c.name != "no sample" && !IsRecording(err) {
				t.Errorf("%v is not a recording error", err)
			}
		})
	}
	// The good recording replays.
	bus := dds.NewBus()
	defer bus.Close()
	if n, err := Replay(context.Background(), bus, ifaces, bytes.NewReader(good), ReplayConfig{Domain: -1}, nil); err != nil || n != 2 {
		t.Fatalf("good recording: %d, %v", n, err)
	}
}
