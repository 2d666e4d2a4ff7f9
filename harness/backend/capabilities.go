package backend

import "context"

// The optional capabilities of a backend: small interfaces that steps
// and the runner ask a stand's backend for (see As and Has), so a step
// on a backend without one says which backends have it.

// CommitFaulter is a backend whose Kafka can refuse consumer group
// offset commits, as an unreachable group coordinator would (the
// embedded backend's kfake).
type CommitFaulter interface {
	FailCommits(site string, fail bool) error
}

// ContainerActor is a backend that runs sites' services as containers
// and can pause, unpause, stop, start, disconnect or reconnect them.
type ContainerActor interface {
	ContainerAction(ctx context.Context, service, site, action string) error
}

// Deployment is a backend whose sites are a deployment's running
// services: the harness creates nothing there, shows no credentials of
// theirs, and leaves heartbeats to the deployment's replicators.
type Deployment interface {
	Deployment()
}

// SharedInflux is a backend whose sites' InfluxDB is the run's shared
// influxd of their major version (Options.Influx, Influx2): a run starts
// those once for all its stands on such backends. A secured stand's
// sites never share one: each starts its own, which takes only the
// run's credentials.
type SharedInflux interface {
	SharesInflux()
}

// BrokerFaulter is a backend that can kill one broker of a site's Kafka
// and start it again (brokers numbered from 1). On real Kafka (the process
// backend) a killed broker's replicas fall out of the ISR and its
// partitions elect new leaders; kfake (the embedded backend) keeps one
// copy of the data for all its brokers, so there a kill is the broker's
// listener gone and leaders moved, never a replica lost.
type BrokerFaulter interface {
	KillBroker(site string, n int) error
	RestartBroker(ctx context.Context, site string, n int) error
}

// NetworkFaulter is a backend whose sites and components talk over the
// host's loopback, so that the harness's fault layer (package netfault)
// can sit between them: the embedded and process backends. Containers
// talk over Docker's network and an external stand over the deployment's.
type NetworkFaulter interface {
	NetworkOnHost()
}
