package saltransform

import (
	"time"

	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"

	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// FuzzParse feeds SAL plain-text lines to the parser: a sample or an
// error, never a panic.
func FuzzParse(f *testing.F) {
	ifaces, err := sal.Load(sample.FS, sal.Avro(sample.Avro))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range [][2]string{{"ATDome", "position"}, {"Test", "arrays"}, {"Test", "logevent_scalars"}, {"MTHexapod", "application"}} {
		t := ifaces.Topic(n[0], n[1])
		s := sal.NewSample(t)
		if t.Indexed {
			s.Set("salIndex", int32(1))
		}
		f.Add(Format(s))
	}
	f.Add("ATDome position nope")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		fuzzx.Within(5*time.Second, func() {
			s, err := Parse(ifaces, line)
			if err != nil {
				return
			}
			if s == nil {
				t.Fatal("no sample and no error")
			}
		})
	})
}
