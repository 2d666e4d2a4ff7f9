// Package mocksal generates SAL traffic: writers that publish valid random
// samples of any CSC topic, at a given rate, on a DDS domain of the bus
// (DDS-era SAL) or, as Kafka-era SAL components (ProcessConfig.Kafka,
// mocksal --kafka; package kafkasal), straight to a site's Kafka.
//
// Every sample carries the private fields a real SAL writer sets
// (private_sndStamp in TAI at write time, private_seqNum monotonic per writer,
// private_identity "CSC" or "CSC:index", private_origin the writer's process
// id, private_revCode as Kafka-era salobj's, ts_xml's get_revcode) and every
// write is reported to the caller, which keeps the ground-truth ledger that
// delivery verdicts are checked against.
//
// Values are seeded and deterministic: the same seed gives the same values.
//
// Recordings (RecordingFormat) keep what was written to be played back:
// Recorder takes them off the bus, package capture (in the harness) off a
// site's Kafka or EFD, and Replay writes them again with their spacing,
// fresh stamps and seqNums renumbered per writer. A recording carries the
// schema of every topic it holds, so it replays against other interfaces
// than it was made with, mapped field by field and refused when the
// fields differ.
//
// mocksal writes to Kafka only as Kafka-era SAL components do: it never
// stands in for the SAL Kafka producer, which reads the DDS domains.
package mocksal
