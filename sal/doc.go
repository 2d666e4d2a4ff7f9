// Package sal is the SAL interface model: it reads the ts_xml interface
// definitions (SALSubsystems.xml, SALGenerics.xml and each CSC's
// _Telemetry, _Events and _Commands files), assembles each CSC's topics
// exactly as ts_xml's component_info.py does, names them (Kafka topic,
// Avro namespace, registry subject), builds their Avro schemas field for
// field as topic_info.py does, and encodes and decodes samples in Avro
// binary with an encoder compiled once per topic.
//
// The package only models and encodes: it never talks to DDS, Kafka or a
// registry, and it never guesses a type it does not know — an unknown
// IDL type is an error naming the file and line.
package sal
