// Package cyclonedds carries a dds.Bus domain over real DDS (RTPS on the
// wire) with Eclipse Cyclone DDS's C library, libddsc 0.10 from Debian's
// cyclonedds-dev, so that the producer reads what DDS-era SAL components
// write and mocksal writes what they would read.
//
// Go has no usable DDS library, so the binding is the package's own and
// small: one participant per domain, publishers and subscribers per
// partition, topics, writers, readers drained through one waitset, and the
// built-in DCPSPublication topic. It needs cgo and is built only with the
// build tag "cyclonedds" (make test-dds); without the tag the package
// holds only the type layout (layout.go), so the default build and make
// demo stay pure Go. Programs import it for its side effect: it registers
// the transport "cyclonedds" with package dds.
//
// SAL topic types are known only at run time, so each topic's Cyclone
// topic descriptor (its C struct layout and serializer ops) is built from
// the SAL model, in the layout of the structs SAL generates from its IDL
// (see Layout). Names are DDS-era SAL's: topic "<CSC>_<sal_name>_<revcode>",
// type "<CSC>::<sal_name>_<revcode>". A reader takes the revcode from the
// publications it discovers on the domain (SAL computes it from IDL of its
// own generation; the reader never guesses it); a writer uses Revcode's,
// documented there.
//
// QoS is ts_ddsconfig's QoS.xml: reliable (100 ms max blocking), keep-last
// 100; events TRANSIENT, the rest VOLATILE; ackcmd EXCLUSIVE ownership;
// partitions "<prefix>.<CSC>.data" and ".cmd" (dds.Partition). Unless
// CYCLONEDDS_URI says otherwise, participants discover each other on the
// loopback interface by unicast (machines here have no multicast on lo),
// on the stand's own base port, so that parallel stands never meet.
package cyclonedds
