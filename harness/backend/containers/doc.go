// Package containers is the containers backend, and what it runs with
// testcontainers-go: per stand a network, per site Kafka in KRaft
// combined mode, a schema registry and InfluxDB, each waited for with a
// strategy, its output kept for reports, and everything terminated with
// the stand; MirrorMaker 2 from the Kafka image; and components with run
// "container" in the components image built from the root Dockerfile.
// Its sites' containers can be paused, stopped, disconnected and started
// again (backend.ContainerActor).
//
// Images default to the upstream ones at pinned tags and take the same
// configuration (the apache/kafka image's KAFKA_* variables, the
// cp-schema-registry image's SCHEMA_REGISTRY_* ones), so a stand runs the
// project's locally built images (`make containers-images`) or the
// upstream ones unchanged. Kafka gets two client listeners: PLAINTEXT,
// advertised under the site's network alias for clients in the network,
// and HOST, advertised as 127.0.0.1 and a host port chosen before the
// container starts and bound to it, for the harness and its taps (the
// mapped port of a started container comes too late to advertise, which
// testcontainers-go's own Kafka module works around in a way users trip
// on: testcontainers-go#2630).
package containers
