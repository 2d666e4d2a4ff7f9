package replication

import (
	"time"

	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"
)

// FuzzMM2Properties feeds MirrorMaker 2 properties text to the reader and
// the configuration built from it: an error or a configuration, never a
// panic.
func FuzzMM2Properties(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.properties")
	more, _ := filepath.Glob("../scenarios/*/*.properties")
	for _, file := range append(files, more...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("clusters = a, b\na.bootstrap.servers = x:1\nb.bootstrap.servers = y:2\na->b.enabled = true\na->b.topics = .*\n"))
	f.Add([]byte("key\\\n  continued = v\\u0041\n! comment\n# comment\nk:v\nk v\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzx.Within(5*time.Second, func() {
			props, err := ReadProperties(bytes.NewReader(data))
			if err != nil {
				return
			}
			NewMM2Config("fuzz.properties", props, nil)
		})
	})
}

// FuzzHeartbeat feeds heartbeat records to their decoder.
func FuzzHeartbeat(f *testing.F) {
	hb := Heartbeat{SourceAlias: "summit", TargetAlias: "usdf", Timestamp: time.UnixMilli(1700000000000)}
	f.Add(hb.Key(), hb.Value())
	f.Add([]byte{0, 0}, []byte{0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		fuzzx.Within(5*time.Second, func() {
			ParseHeartbeat(key, value)
		})
	})
}
