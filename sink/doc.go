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
//
// Schema ids are per registry. A site of Sasquatch's "remote context" has
// its own registry for its local topics and, per source site, a
// read-only remote registry serving that site's replicated storage topic
// (summit.registry-schemas) for the replicated topics
// (summit.lsst.sal.X.y), whose records carry the source registry's ids.
// So each rule says its registry (Rule.Registry; Config.RegistryURL for
// the rules that do not), and each registry has a schema cache of its
// own. Read through the wrong registry, an id names another topic's
// schema: the record fails to decode or, worse, decodes as a plausible
// point of another measurement. The sink therefore refuses any record
// whose schema's full name does not belong to its topic (SchemaBelongs:
// the topic without its replication prefixes, lsst.<subname>.<CSC>.<name>
// or saltransform's lsst.sal.<CSC>_<name>, wants lsst.sal.<CSC>.<name>; a
// SAL schema on another topic is refused),
// and any record its schema decodes without using every byte: each is
// logged with its place, the schema id and both names, counted
// (Stats.Mismatched, efdsink_schema_mismatches_total; DecodeErrors for
// bytes left over) and never written. Its offset is committed with the
// rest, since reading it again through the same registry cannot go
// better; Config.Strict (efdsink --strict) stops the sink at it instead.
//
// A write InfluxDB refuses for the sink's credentials (401, 403: none,
// wrong ones, a user without write privileges) is retried with backoff
// and logged, never skipped: it is no point's fault, and the points wait,
// uncommitted, until the credentials are right.
package sink
