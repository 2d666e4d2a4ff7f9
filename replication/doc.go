// Package replication copies topics from one Kafka cluster to another with
// MirrorMaker 2's semantics: the DefaultReplicationPolicy renames a topic to
// "<sourceAlias><separator><topic>" (IdentityReplicationPolicy keeps its
// name), internal topics and topics whose source chain already contains the
// target alias are never replicated, and records keep their key, value,
// headers, partition and timestamp.
//
// Delivery is at least once: a source offset is committed only after the
// target cluster acknowledged the copied record, so a restarted replicator
// may copy a record twice but never loses one.
package replication
