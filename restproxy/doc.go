// Package restproxy is a Kafka REST proxy compatible with the Confluent
// REST Proxy's v2 produce API and its v3 cluster and topic calls: the path
// by which Sasquatch takes data that is not SAL's (analysis metrics under
// lsst.dm, lsst.verify, lsst.prompt) over HTTP into Kafka.
//
// Avro values are given in Avro's JSON encoding with a schema or a schema
// id; a schema is registered in the registry under "<topic>-value" (or
// "-key") and the record is written in the Confluent wire format, so the
// sink reads it exactly as it reads a SAL producer's records. JSON values
// are written as their JSON bytes. Errors carry the REST proxy's own
// error codes (40401 topic not found, 42202 value schema missing, 42203
// JSON to Avro conversion failed, 42205 invalid schema, ...).
//
// With tokens configured, every call needs "Authorization: Bearer
// <token>", and a token produces to and creates only topics under its
// prefixes, as Sasquatch restricts its REST proxy to lsst.dm, lsst.verify
// and lsst.prompt.
package restproxy
