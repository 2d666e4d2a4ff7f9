// Package proc runs the subprocesses a stand or a conformance test owns
// (salkafka, efdsink, mocksal, Kafka nodes, MirrorMaker 2): each dies with
// its owner (Pdeathsig), keeps its output for error messages, and stops
// with SIGTERM, then SIGKILL after a grace period.
package proc
