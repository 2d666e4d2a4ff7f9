// Package backend is what runs a stand's sites: the Backend interface
// (a site's Kafka, registries, InfluxDB, MirrorMaker 2, the project's
// binaries on the host or in an image, logs, versions, close), the
// registry of backends by name, in the spirit of Telegraf's inputs.Add,
// and the optional capabilities (commit faults, container actions,
// deployment, a run's shared influxd) steps ask a backend for.
//
// Each backend is a package of its own that registers itself from an
// init function: embedded (kfake in this process), process (Apache Kafka
// and MirrorMaker 2 as processes), containers (everything in Docker) and
// external (a deployment's running services). Package host holds what
// the embedded and process backends share. Adding a backend is a new
// package and one Register call; the harness imports the four.
package backend
