// Package embedded is the embedded backend: each site's Kafka is a kfake
// cluster in this process (with the fault hooks kfake allows, such as
// refused offset commits), and registries, InfluxDB (influxd on the
// host) and binaries are the host's (package host). It is the fastest
// backend, and the default.
package embedded
