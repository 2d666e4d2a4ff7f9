// Package saltransform turns SAL's plain-text messages into the Avro
// records the rest of the stack reads, as kafkaefd's saltransform did
// when SAL wrote text to Kafka: it consumes one input topic per CSC and
// kind, "<CSC>_telemetry", "<CSC>_event" and "<CSC>_command", and
// produces each message to a topic of its own, "lsst.sal.<CSC>_<sal_name>",
// in the Confluent wire format with the topic's standard schema
// registered under "<output topic>-value". The measurement the sink writes
// is the record's full name, "lsst.sal.<CSC>.<sal_name>", the same as for
// a SAL Kafka producer's records.
//
// Kafka treats '.' and '_' in topic names alike when it checks for
// collisions, so "lsst.sal.ATDome_position" cannot be created on a
// cluster that has "lsst.sal.ATDome.position": the two paths never serve
// one CSC on one cluster (stands refuse it).
//
// # The text format
//
// One message is one line, an SQL-insert-like tuple after a preamble:
//
//	<CSC> <CSC>_<sal_name>:( '<revCode>', <sndStamp>, <rcvStamp>, <seqNum>, '<identity>', <origin>[, <salIndex>], <item>, ... )
//
// The six preamble values are the private fields private_revCode,
// private_sndStamp and private_rcvStamp (TAI unix seconds),
// private_seqNum, private_identity and private_origin; an indexed CSC's
// salIndex follows; then every ts_xml item in file order, an array item as
// its Count values one after the other. Strings are in single quotes with
// a quote inside doubled (”); booleans are 0 or 1; numbers are decimal,
// floats and doubles in the shortest form that reads back to the same
// value. private_efdStamp (UTC of sndStamp) and private_kafkaStamp (TAI
// when transformed) are set by the transform. Format and Parse are exact
// inverses.
package saltransform
