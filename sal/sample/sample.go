package sample

import (
	"embed"
	"io/fs"
)

//go:embed SALSubsystems.xml SALGenerics.xml ATCamera ATDome MTHexapod MTM1M3 Test
var files embed.FS

//go:embed interfaces
var avro embed.FS

// FS is the root of the sample interfaces (ts_xml's sal_interfaces).
var FS fs.FS = files

// Avro is the sample's interfaces directory (ts_xml's interfaces): the
// .avsc topics of ATCamera. Load both with sal.Load(FS, sal.Avro(Avro)).
var Avro fs.FS = func() fs.FS {
	sub, err := fs.Sub(avro, "interfaces")
	if err != nil {
		panic(err)
	}
	return sub
}()
