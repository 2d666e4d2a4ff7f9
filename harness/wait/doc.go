// Package wait describes readiness as values, separately from how a thing
// starts (the testcontainers-go idea): an influxd subprocess, an in-process
// kfake cluster, a real Kafka broker or a container are all ready when their
// strategy says so.
//
// A strategy only observes; it never starts or stops anything.
package wait
