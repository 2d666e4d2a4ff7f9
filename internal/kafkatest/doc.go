// Package kafkatest holds what tests of several packages do with a Kafka
// cluster: read a topic's first records or a config of it, register a schema, write Avro
// records, and stand up a site of Sasquatch's remote context whose two
// registries give colliding ids. It is imported by tests only.
package kafkatest
