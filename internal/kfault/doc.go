// Package kfault injects faults into an embedded (kfake) Kafka cluster
// the way a real cluster fails, for tests and stand scenarios that prove
// what a component does when it happens.
package kfault
