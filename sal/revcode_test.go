package sal

import (
	"crypto/md5"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/sal/sample"
)

// revcodePy is ts_xml's TopicInfo.get_revcode on the schema salobj
// registers (make_avro_schema, which json.loads of Schema() is).
const revcodePy = `
import hashlib, json, sys
for line in sys.stdin:
    schema = json.loads(line)
    print(hashlib.md5(json.dumps(schema, indent=4).encode("utf-8")).hexdigest()[:8])
`

// TestRevCode: the Kafka-era revcode is ts_xml's get_revcode, the first 8
// hex digits of the MD5 of json.dumps(schema, indent=4); the values below
// were computed so, and with python3 every topic is checked against it.
func TestRevCode(t *testing.T) {
	ifaces, err := Load(sample.FS, Avro(sample.Avro))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ csc, topic, want string }{
		{"ATDome", "position", "4b27c1a3"},
		{"Test", "logevent_heartbeat", "d41fb5d5"},
		{"ATDome", "ackcmd", "fe37b6cb"},
		{"ATCamera", "vacuum", "5bb3feb9"}, // an .avsc topic
	} {
		if got := ifaces.Topic(c.csc, c.topic).RevCode(); got != c.want {
			t.Errorf("%s.%s: revcode %s, want %s (ts_xml's get_revcode)", c.csc, c.topic, got, c.want)
		}
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("no python3: every topic's revcode not checked against Python")
		return
	}
	var all []*Topic
	var in strings.Builder
	for _, n := range ifaces.Names() {
		for _, tp := range ifaces.Component(n).Topics {
			all = append(all, tp)
			in.WriteString(tp.Schema() + "\n")
		}
	}
	// Strings json.dumps escapes: non-ASCII, quotes, controls, beyond the BMP.
	odd := `{"type": "record", "name": "x\u00b0\"\\\t/<&>\u007f\ud83d\ude00", "fields": [], "namespace": {}, "default": [0.0, 1e-05, -3, true, null]}`
	in.WriteString(odd + "\n")
	cmd := exec.Command(py, "-c", revcodePy)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(all)+1 {
		t.Fatalf("python gave %d revcodes for %d schemas", len(want), len(all)+1)
	}
	for i, tp := range all {
		if got := tp.RevCode(); got != want[i] {
			t.Errorf("%s.%s: revcode %s, Python's %s", tp.CSC, tp.Name, got, want[i])
		}
	}
	sum := md5.Sum(pythonIndent([]byte(odd)))
	if got := hex.EncodeToString(sum[:])[:8]; got != want[len(all)] {
		t.Errorf("revcode %s of %s, Python's %s", got, odd, want[len(all)])
	}
}
