// Package external is the external backend: a stand's sites are a
// deployment's running clusters, registries and InfluxDBs, given by
// address in the stand. The backend waits for each to answer and creates
// nothing there; the stand's own producers run on the host.
package external
