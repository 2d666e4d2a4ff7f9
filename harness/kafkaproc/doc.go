// Package kafkaproc runs a real Apache Kafka cluster (KRaft: every node a
// broker and a controller) from the jars `make conformance-tools` resolves
// from Maven Central, so that the project's components and verdicts are
// checked against the system production runs, not only against kfake.
// Nodes bind to 127.0.0.1 on free ports, keep their logs in a temporary
// directory, and die with their owner (Pdeathsig). A cluster can be
// secured as Sasquatch's are (Config.Security: SASL/SCRAM-SHA-512 over
// TLS, ACLs enforced), its users and ACLs in place before Start returns.
package kafkaproc
