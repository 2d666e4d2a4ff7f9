// Command restproxy serves a Kafka REST proxy compatible with Confluent's
// v2 produce and v3 topic APIs, as Sasquatch runs one for data that is not
// SAL's; see package restproxy.
package main
