// Command mirror replicates Kafka topics between clusters with MirrorMaker
// 2's naming, filtering and heartbeats, from an MM2 properties file or
// from flags for one flow; see package replication.
package main
