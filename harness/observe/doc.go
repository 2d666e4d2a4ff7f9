// Package observe is what the harness sees of a running stand: the
// ledger of what each writer wrote (Traffic), taps that follow one place
// for a writer's samples without taking messages from the stack (a Kafka
// topic read with direct partition assignment and no group, an InfluxDB
// measurement polled), the Target a verdict is made at, and Verdict,
// which turns a ledger and the taps along its path into delivery, loss,
// duplicates, reordering and per-hop latency. It also holds the small
// reads of a site's Kafka that steps make (a topic's records, a group's
// members), so steps build no clients or poll loops of their own.
//
// It knows nothing of stands or scenarios: the harness decides which
// taps a writer gets and asks for verdicts.
package observe
