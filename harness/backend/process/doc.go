// Package process is the process backend: each site's Kafka is a real
// Apache Kafka cluster (KRaft, a JVM per node) and flows may run in real
// MirrorMaker 2, so that the same features check the systems production
// runs; registries, InfluxDB and binaries are the host's (package host).
package process
