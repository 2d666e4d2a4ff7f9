// Package kafkaadmin is the small toolbox engineers poke a cluster with,
// as kafkaefd's admin, helloworld and helloavro commands were: topics
// (list, create, config, partitions, delete), brokers, and hello-world
// round trips in plain text and in Avro through a registry. It works
// against any cluster, the embedded one or real Kafka, through kadm.
package kafkaadmin
