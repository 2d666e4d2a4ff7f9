package sample

import (
	"embed"
	"io/fs"
)

//go:embed SALSubsystems.xml SALGenerics.xml ATDome MTHexapod MTM1M3 Test
var files embed.FS

// FS is the root of the sample interfaces.
var FS fs.FS = files
