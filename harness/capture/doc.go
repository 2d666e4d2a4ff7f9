// Package capture turns what a site holds into a recording of
// mocksal.RecordingFormat, which mocksal replays on a DDS domain: the
// records of Kafka topics in a time range, or the points of an EFD's
// measurements.
//
// From Kafka (Kafka): the topics a Java regex names whole (MirrorMaker
// 2's semantics, replication.CompileTopicPattern), read with direct
// partition assignment and no consumer group (a capture takes nothing
// from the stack) from the first offset at or after the range's start to
// the first at or after its end, both by Kafka's offsets for times. Each
// value is unframed from the Confluent wire format and decoded with the
// schema its id names in the registry that serves the topic (a replica's
// ids are its source site's, served by the remote registry of that
// alias), so that what is recorded is known to decode; the record's
// Kafka timestamp gives its t, and the schema text goes into the
// recording, which therefore replays without the registry.
//
// From an EFD (EFD): the points of the measurements a regex names in an
// InfluxDB 1.x database (InfluxQL over HTTP /query), mapped back onto
// their topic's fields by inverting the sink's mapping exactly, with the
// topic's schema from the interfaces given. What the sink does not keep
// cannot come back; see EFD.
//
// Both write the recording only once everything was read and checked,
// so an error leaves no partial recording behind (with
// atomicfile.Write, as the stand command does).
package capture
