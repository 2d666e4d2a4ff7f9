// Package kafkasec turns the security settings the deployments use
// (security protocol, SASL mechanism and credentials, TLS files) into
// franz-go options, for every component that talks to Kafka, and gives
// commands one set of flags for them (and for a registry's basic auth),
// named and defaulted from the environment as the SAL Kafka producer
// takes them. It never logs or returns a secret in an error.
package kafkasec
