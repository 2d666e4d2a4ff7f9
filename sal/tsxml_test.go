package sal_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsst-ts/teststand/internal/pyenv"
	"github.com/lsst-ts/teststand/sal"
)

// fullTSXML is ts_xml's whole package beside the module: its Python and
// its data (sal_interfaces and the camera's .avsc interfaces).
func fullTSXML(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../shared/ts_xml/full")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "python", "lsst", "ts", "xml", "component_info.py"))
	}
	if err != nil {
		t.Fatalf("ts_xml's full package is missing: put shared/ts_xml/full beside the module (%v)", err)
	}
	return dir
}

// TestSchemasEqualTSXML: for every topic of the whole ts_xml, the schema
// the project builds equals the one ts_xml's own code builds
// (TopicInfo.make_avro_schema, run by testdata/tsxml_schemas.py under
// ts_xml's Python), compared as parsed JSON with keys in order; no topic
// is missing on either side.
func TestSchemasEqualTSXML(t *testing.T) {
	full := fullTSXML(t)
	py := pyenv.Python(t, []string{"fastavro", "astropy"}, "fastavro", "astropy")
	script, _ := filepath.Abs("testdata/tsxml_schemas.py")
	cmd := exec.Command(py, script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(full, "python"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ts_xml's code: %v\n%s", err, stderr.String())
	}
	ifaces, err := sal.LoadDir(filepath.Join(full, "python", "lsst", "ts", "xml", "data", "sal_interfaces"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := map[string]bool{}
	var diffs []string
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			CSC, Topic, Kafka string
			Schema            json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("ts_xml's output %.200q: %v", sc.Text(), err)
		}
		n++
		theirs[line.CSC+"."+line.Topic] = true
		tp := ifaces.Topic(line.CSC, line.Topic)
		if tp == nil {
			diffs = append(diffs, fmt.Sprintf("%s: missing", line.Kafka))
			continue
		}
		if got := tp.KafkaTopic(""); got != line.Kafka {
			diffs = append(diffs, fmt.Sprintf("%s: Kafka topic %s", line.Kafka, got))
		}
		if d := JSONDiff([]byte(tp.Schema()), line.Schema); d != "" {
			diffs = append(diffs, fmt.Sprintf("%s: %s", line.Kafka, d))
		}
	}
	for _, c := range ifaces.Components {
		for _, tp := range c.Topics {
			if !theirs[c.Name+"."+tp.Name] {
				diffs = append(diffs, fmt.Sprintf("%s: not in ts_xml", tp.KafkaTopic("")))
			}
		}
	}
	if n < 3000 {
		t.Fatalf("ts_xml's code gave %d topics; the whole ts_xml has over 3,000\n%s", n, stderr.String())
	}
	if len(diffs) > 0 {
		shown := diffs[:min(len(diffs), 20)]
		for i, d := range shown {
			if len(d) > 400 {
				shown[i] = d[:400] + "…"
			}
		}
		t.Fatalf("%d of %d topics differ from ts_xml's make_avro_schema(); the first:\n%s", len(diffs), n, strings.Join(shown, "\n"))
	}
	t.Logf("%d topics equal ts_xml's, %d of them from .avsc", n, countAvsc(ifaces))
}

func countAvsc(ifaces *sal.Interfaces) int {
	n := 0
	for _, c := range ifaces.Components {
		for _, tp := range c.Topics {
			if tp.Avsc {
				n++
			}
		}
	}
	return n
}
