// Command efdsink writes Avro topics from Kafka into InfluxDB with the EFD's
// conventions (Telegraf's kafka_consumer with the avro parser); see
// package sink.
package main
