// Command registry serves a Confluent-compatible schema registry stored in
// a Kafka topic; see package registry.
package main
