// Package kafkaproc runs a real Apache Kafka cluster (KRaft: every node a
// broker and a controller) from the jars `make conformance-tools` resolves
// from Maven Central, so that the project's components and verdicts are
// checked against the system production runs, not only against kfake.
// Nodes bind to 127.0.0.1 on free ports, keep their logs in a temporary
// directory, and die with their owner (Pdeathsig).
package kafkaproc
