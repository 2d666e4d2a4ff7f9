// Package kafkasec turns the security settings the deployments use
// (security protocol, SASL mechanism and credentials, TLS files) into
// franz-go options, for every component that talks to Kafka. It never logs
// or returns a secret in an error.
package kafkasec
