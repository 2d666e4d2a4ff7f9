// Package aliecs publishes and reads events in the manner of ALICE's
// AliECS (O2 Control) event stream: protobuf messages (eventspb.Event) on
// topics such as aliecs.environment and aliecs.run. It exists to test a
// stack with the failure the AliECS documentation admits: with broker
// topic auto-creation, the first message to a new topic is lost, because
// the broker answers the very metadata request that creates the topic
// with LEADER_NOT_AVAILABLE and a fire-and-forget producer drops that
// write. A Publisher therefore creates its topics before the first write
// (PreCreate), and can be told not to, to show the loss.
package aliecs
