// Package stand is the stand model: the types a stand's YAML decodes
// into, loading (extends, MM2 properties files, environment expansion),
// validation (one file per concern: backend and sites, components, flows
// and faults, sinks, traffic, figures, registries), warnings and the JSON
// Schema generated from the same types. Backends and run modes are typed
// constants, and runModes in modes.go is the one table of which run modes
// each component allows on which backend.
//
// Every error names the file and, where it can, the line and column; the
// bad stands in testdata/bad are the corpus of those errors. Package
// harness runs what this package loads.
package stand
