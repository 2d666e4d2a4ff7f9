// Package registry is a Confluent-compatible schema registry whose state
// lives in a compacted Kafka topic (default "registry-schemas"), in
// Confluent's own storage record format. Because the state is a topic,
// MirrorMaker-2-style replication copies it to another site (as
// "summit.registry-schemas"), where a read-only "remote" registry serves the
// same schema ids: records replicated with their schema ids resolve
// unchanged, with no id clashes.
//
// The in-memory state is built only by reading the topic. A registration is
// written to the topic first and answered only after the reader has applied
// it, so the registry never hands out an id it has not stored, and two
// registries on one topic agree. Before a write decides (the next id, a
// subject's versions) the reader catches up with the topic's end, so what
// others wrote there counts; Server.Sync does the same for a caller that
// reads. One instance per topic writes (the primary); others must be
// read-only.
package registry
