// Package dds is the simulated DDS data space that SAL components publish on.
//
// Real SAL components publish samples over OpenSplice/Cyclone DDS. Two
// mechanisms keep sites and test set-ups apart there, and the bus models both:
// the domain id (engineers move a component to a non-zero domain so that the
// production producers never see it) and the partition prefix
// (LSST_DDS_PARTITION_PREFIX; samples travel in the DDS partitions
// "<prefix>.<CSC>.cmd" and "<prefix>.<CSC>.data", and the summit uses
// "summit"). A reader receives a sample only when domain id, partition and
// topic all match.
//
// Readers have bounded queues. A full queue blocks the writer (DDS reliable
// delivery with KEEP_ALL history) rather than dropping a sample: the bus must
// never lose a sample silently. The reader stamps private_rcvStamp when it
// takes a sample, as the DDS-era salobj reader did.
//
// The bus never imports Kafka or anything downstream of the producer.
package dds
