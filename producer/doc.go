// Package producer is the SAL → Kafka bridge, with the interface and
// behaviour of ts_salkafka: it reads every topic of the listed CSCs from a
// DDS domain, registers each topic's Avro schema under "<topic>-value",
// creates each Kafka topic before its first record, and produces every
// sample in the Confluent wire format (magic byte 0, 4-byte big-endian
// schema id, Avro binary) to "lsst.<subname>.<CSC>.<sal_name>", with
// private_rcvStamp, private_efdStamp and private_kafkaStamp filled in.
//
// The producer never relies on broker auto-creation of topics (the first
// record to an auto-created topic can be lost) and never drops a sample
// silently: a full read queue applies backpressure to the bus.
package producer
