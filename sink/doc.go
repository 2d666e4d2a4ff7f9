// Package sink consumes Avro topics in the Confluent wire format and writes
// them into InfluxDB with the EFD's conventions (those of Telegraf's
// kafka_consumer input with the avro parser): database "efd", measurement
// the Avro record's "namespace.name" (so "summit.lsst.sal.X.y" and
// "lsst.sal.X.y" land in one measurement), time from private_efdStamp
// (float seconds, converted as Telegraf does: its shortest decimal form to
// the nanosecond), array fields flattened to
// "name0".."nameN-1", null union members dropped.
//
// The sink never commits a Kafka offset before InfluxDB has accepted the
// batch holding that record, and never skips a record silently: a schema id
// the registry does not know yet is retried, and a record that cannot be
// decoded is logged with its topic, partition and offset and counted.
package sink
