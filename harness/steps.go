package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/lsst-ts/teststand/reports"
)

// Steps binds the step library to a running stand. Step definitions stay
// thin: each parses its arguments and calls the harness API.
type Steps struct {
	Env *Env
	// Progress, when set, counts finished scenarios and written samples.
	Progress *Progress

	mu        sync.Mutex
	scenarios map[string]*scenarioState // by pickle id
	// Collected holds each finished scenario for the report.
	Collected []reports.Scenario
}

type scenarioState struct {
	sc         *Scenario
	started    time.Time
	failedStep string
	lastTarget map[*Traffic]Target
	// startErr is what the last producer started by a step stopped with;
	// topicEnds are topic end offsets noted before it started.
	startErr  error
	topicEnds map[string]int64
	// posted are the analysis metrics posted by steps, by topic.
	posted map[string][]Metric
	// events are the AliECS events published by steps, by site/topic.
	events map[string]*eventLedger
	// debug is the scenario's debugging consumer, if a step started one.
	debug *debugConsumer
	// extra are verdicts of traffic outside the SAL ledger (events).
	extra []reports.Topic
	// outages are when the producers stopped by steps were down.
	outages map[string]*outage
	// recordings are the recordings steps made, by name, in recordDir
	// (removed with the scenario); replayed the traffic of each
	// recording's replay.
	recordings map[string]string
	recordDir  string
	replayed   map[string][]*Traffic
	// faults are the network faults steps put on the stand, in order.
	faultsMu sync.Mutex
	faults   []*faultRecord
}

// recordingPath is where the scenario keeps its recording name.
func (s *scenarioState) recordingPath(name string) (string, error) {
	if s.recordDir == "" {
		dir, err := os.MkdirTemp("", "teststand-recordings-")
		if err != nil {
			return "", err
		}
		s.recordDir = dir
	}
	return filepath.Join(s.recordDir, strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(name)+".jsonl"), nil
}

type ctxKey struct{}

// StepDoc documents one step for `stand steps`.
type StepDoc struct {
	Pattern, Doc string
	// Func implements the step.
	Func any
}

const (
	cscArg = `(\w+)(?::(\d+))?`
	quoted = `"([^"]+)"`
	// netTargetArg is a network fault's target: the link between two
	// sites, or a service at a site (four groups, see netTarget).
	netTargetArg = `the (?:link from "([^"]+)" to "([^"]+)"|(registry|InfluxDB|Kafka) at "([^"]+)")`
	floatArg     = `([0-9]+(?:\.[0-9]+)?)`
)

// library is the documented step library, each step with its function.
func (st *Steps) library() []StepDoc {
	return []StepDoc{
		{`^the stand is up$`, "Every component of the stand is running.", st.standIsUp},
		{`^the producer ` + quoted + ` is stopped$`, "Stops a producer as a pod is stopped (SIGTERM for a binary: it flushes what it read); nothing reads its DDS domain until it is started again.", st.stopProducer},
		{`^the (?:sink|replication flow|component) ` + quoted + ` is stopped$`, "Stops a component as a pod is stopped (SIGTERM for a binary: it flushes and commits).", st.stopComponent},
		{`^the producer ` + quoted + ` is restarted(?: with CSCs? ` + quoted + ` added)?$`, "Stops a producer if it runs and starts it again (as its binary, or in process, as it ran), with the CSCs given (CSC or CSC:index, comma-separated) added to its list: the summit's documented way of adding a CSC.", st.restartProducer},
		{`^exactly the samples of ` + cscArg + ` ` + quoted + ` written while the producer ` + quoted + ` was down are missing from database ` + quoted + ` at ` + quoted + ` within ` + floatArg + ` s$`, "Waits up to the bound for every sample written while the producer ran, then asserts that those written while it was certainly down are missing and no other (the ones written while it stopped or started may go either way); the verdict with the missing seqNums goes into the report.", st.lostWhileDown},
		{`^the (?:sink|producer|replication flow|component) ` + quoted + ` is killed$`, "Kills a component at once: SIGKILL for one run as a binary (no flush, no commit), its context cancelled otherwise.", st.killComponent},
		{`^` + floatArg + ` s pass(?:es)?$`, "Waits (lets background traffic flow before a fault).", st.pass},
		{`^the (?:sink|replication flow|component) ` + quoted + ` is restarted$`, "Starts a stopped replication flow or sink again; it continues from the progress it committed.", st.restartComponent},
		{`^` + cscArg + ` publishes ` + quoted + ` at ` + floatArg + ` Hz for ` + floatArg + ` s on domain (\d+)$`, "Writes one topic of a CSC (CSC or CSC:index) at a rate for a duration on a DDS domain; blocks until written.", st.publish},
		{`^every sample of ` + cscArg + ` ` + quoted + ` is in database ` + quoted + ` at ` + quoted + ` exactly once within ` + floatArg + ` s$`, "Waits up to the bound, then asserts none lost and none duplicated, against the ledger.", st.deliveredExactlyOnce},
		{`^every sample published in this scenario is in database ` + quoted + ` at ` + quoted + ` (exactly|at least) once within ` + floatArg + ` s$`, "Waits until every traffic of the scenario is in a site's database, all within one bound, and fails naming each one lost there, or duplicated (counted from the last Kafka topic on its way: InfluxDB keeps one point of a duplicate) unless at least once is asked for; duplicates are reported either way.", st.allDelivered},
		{`^every sample of ` + cscArg + ` ` + quoted + ` is in topic ` + quoted + ` at ` + quoted + ` exactly once within ` + floatArg + ` s$`, "Waits up to the bound, then asserts every sample is in a Kafka topic at a site once (duplicates counted from the records).", st.inTopicExactlyOnce},
		{`^every sample of ` + cscArg + ` ` + quoted + ` is in topic ` + quoted + ` at ` + quoted + ` at least once within ` + floatArg + ` s$`, "Waits up to the bound, then asserts no sample is lost from a Kafka topic at a site; duplicates are allowed, counted and reported.", st.inTopicAtLeastOnce},
		{`^every sample of ` + cscArg + ` ` + quoted + ` is in topic ` + quoted + ` at ` + quoted + ` with none lost and (\d+) duplicates? within ` + floatArg + ` s$`, "Waits up to the bound, then asserts no sample is lost from a Kafka topic and exactly that many duplicates were counted.", st.inTopicWithDuplicates},
		{`^these topics are published on domain (\d+):$`, "Writes every row of a table (CSC | topic | rate | duration, rate in Hz and duration in s) at once on a domain; blocks until all are written.", st.publishTable},
		{`^profile ` + quoted + ` is replayed for ` + floatArg + ` s on domain (\d+)$`, "Writes every topic a traffic profile (scenarios/profiles/NAME.yaml, or a path) gives a rate to, for each CSC a producer on the domain serves, for a duration; blocks until all are written.", st.replayProfile},
		{`^recording ` + quoted + ` is replayed at ` + floatArg + `x on domain (\d+)$`, "Replays a recording (one this scenario made, a path, or relative to the stand; either format) at a speed (1 as recorded, 0 as fast as possible) on a domain, with fresh stamps and seqNums renumbered per writer; every recorded writer (CSC, index, topic) becomes traffic checked like generated traffic, each CSC index with an origin of its own; blocks until replayed, and fails unless every recorded sample was written.", st.replayRecording},
		{`^the topics matching ` + quoted + ` at ` + quoted + ` are recorded into ` + quoted + `$`, "Waits until every sample this scenario wrote is in the site's topics a Java regex names (whole names, as MirrorMaker 2 matches), then records those topics from the scenario's start to now, as `stand record` does (the site's Kafka, schemas by id from its registries), into a recording of that name kept for the scenario.", st.recordTopics},
		{`^recording ` + quoted + ` holds every sample written in this scenario, field by field$`, "Reads a recording this scenario made and checks it against the ledgers of what the scenario wrote before: every sample exactly once, every field as written (but the stamps the reader and producer set).", st.recordingHolds},
		{`^every sample replayed from ` + quoted + ` is in database ` + quoted + ` at ` + quoted + ` exactly once within ` + floatArg + ` s, every field as written$`, "For every writer of a recording's replay in this scenario: waits up to the bound, then asserts each sample is in the site's Kafka topic once (duplicates counted from the records) and in the database, and compares every point with the ledger (time = private_efdStamp, every field as written).", st.replayedDelivered},
		{`^every field of ` + cscArg + ` ` + quoted + ` in database ` + quoted + ` at ` + quoted + ` is as written$`, "Waits for delivery, then compares every point with the ledger: time = private_efdStamp at µs, every field under the EFD's name (arrays as name0..nameN-1) with the value written.", st.fieldsAsWritten},
		{`^the lag of the (sink|replication flow) ` + quoted + ` drains within ` + floatArg + ` s$`, "Waits until the component's consumer lag (its own metrics: efdsink_consumer_lag_records, mirror_lag_records) is 0, or fails with the lag left.", st.lagDrains},
		{`^the link from ` + quoted + ` to ` + quoted + ` is down for ` + floatArg + ` s$`, "Partitions the network link from one site to another (what its replication flows, the replicator or MirrorMaker 2, reach the source's Kafka through) for that long, then heals it: their connections hang and time out, and what was in flight is delivered on healing, as TCP retransmits it.", st.linkDown},
		{`^the link from ` + quoted + ` to ` + quoted + ` is slowed by ` + floatArg + ` (ms|s)$`, "Delays each direction of the link from one site to another by that much (a slow link: a round trip takes twice that longer); 0 restores it.", st.slowLink},
		{`^` + netTargetArg + ` is (partitioned|blackholed|reset)(?: for ` + floatArg + ` s( in the background)?)?$`, "Puts a TCP fault on a link between sites or in front of a site's registry, InfluxDB or Kafka (what the site's components reach it through; the harness's own checks never go through it): partitioned holds everything sent until it heals; blackholed swallows it and keeps connections open, closing them when it heals; reset resets every connection that sends. With a duration it waits that long and heals (in the background: goes on at once and heals then); without, it lasts until the target heals or the scenario ends.", st.netFault},
		{`^the catch-up after ` + netTargetArg + ` healed took at most ` + floatArg + ` s$`, "From the delivery verdicts this scenario took at the fault's site (every site for a registry or Kafka fault): how long after the fault healed the last sample written before the heal reached its target, reported with the samples held and the duplicates counted; fails above the bound, when the fault never healed, when nothing written during it was held (the fault was not on the samples' path), and, for a partitioned or blackholed link, when any sample written during it arrived before the heal.", st.catchUp},
		{`^` + netTargetArg + ` has latency ` + floatArg + ` ms(?: with jitter ` + floatArg + ` ms)?$`, "Delays each direction of a network target by that latency (± the jitter); 0 restores it.", st.netLatency},
		{`^` + netTargetArg + ` is limited to ` + floatArg + ` KB/s$`, "Limits each direction of a network target to that bandwidth; 0 restores it.", st.netBandwidth},
		{`^` + netTargetArg + ` heals$`, "Takes every fault a scenario put on a network target off it (the stand's standing faults stay).", st.netHeal},
		{`^the ` + quoted + ` user (may|may not) (read|write) topic ` + quoted + ` at ` + quoted + `$`, "On a secured stand: tries to read a topic's first record or to write to it (a batch the brokers refuse as corrupt once they have authorized it, so nothing is written) as a component's Kafka user (ts-salkafka, replicator, telegraf, rest-proxy, sasquatch-schema-registry, kafka-admin), and asserts the brokers allowed or refused it for its ACLs.", st.userMay},
		{`^a client without credentials is refused at ` + quoted + `$`, "On a secured stand: asserts a site's Kafka answers no client that does not authenticate.", st.anonymousRefused},
		{`^the InfluxDB at ` + quoted + ` refuses a client without credentials$`, "On a secured stand: asserts a site's InfluxDB, asked directly, refuses with 401 both a query (SHOW DATABASES) and a write (an empty one, which adds nothing if let through) that carry no credentials.", st.influxAnonymousRefused},
		{`^broker (\d+) of ` + quoted + ` is (killed|restarted)$`, "Kills broker N (from 1) of a site's Kafka with SIGKILL, or starts it again on its data and waits until the cluster lists it. On real Kafka (backend process) the broker's replicas leave the ISR and its partitions elect other leaders; on kfake (backend embedded) its listener closes and its leaders move, but no replica is lost: kfake keeps one copy for all brokers.", st.brokerFault},
		{`^the registry at ` + quoted + ` (goes down|comes back)$`, "Stops a site's schema registry, or starts it again on the same address (reading its storage topic anew).", st.registryDown},
		{`^offset commits (fail|succeed) at ` + quoted + `$`, "Makes a site's cluster refuse consumer offset commits (an unreachable group coordinator), or accept them again.", st.commitsFail},
		{`^every topic published in this scenario reaches ` + quoted + ` as ` + quoted + ` exactly once within ` + floatArg + ` s$`, `Asserts each topic this scenario published is at a site under a name made from the pattern ("summit.<topic>"), every sample once, and not under its own name.`, st.renamedExactlyOnce},
		{`^heartbeats from ` + quoted + ` to ` + quoted + ` arrive in topic ` + quoted + ` at ` + quoted + ` within ` + floatArg + ` s$`, "Waits for a MirrorMaker-2 heartbeat with that source and target alias, emitted after the scenario started, in a topic at a site.", st.heartbeatArrives},
		{`^database ` + quoted + ` at ` + quoted + ` holds no unexpected points$`, "Asserts that every point of a site's database was written by a writer of the stand (its measurement, private_origin and private_seqNum are in a ledger; background traffic and metrics this scenario posted are expected): a record a sink decoded with another topic's schema fails it.", st.noUnexpectedPoints},
		{`^the registry at ` + quoted + ` reports (no )?schema id conflicts$`, "Asserts whether a site's registry refused storage records whose id was already another schema's (identity replication of registry-schemas onto a site with its own registry).", st.registryConflicts},
		{`^no sample of ` + cscArg + ` ` + quoted + ` is in topic ` + quoted + ` at ` + quoted + ` after ` + floatArg + ` s$`, "Waits for the writer, then the time given, then reads a Kafka topic at a site from its start (no consumer group) and fails on any record of this scenario's traffic (its private_origin); a topic that does not exist holds none. Isolation: what a test subname or domain writes never reaches production's topics.", st.noneInTopic},
		{`^` + cscArg + ` ` + quoted + ` is reported as ` + quoted + ` in database ` + quoted + ` at ` + quoted + ` after ` + floatArg + ` s$`, `Waits, then asserts the delivery verdict ("delivered exactly once", "not delivered", "partially delivered", "delivered with duplicates").`, st.reportedAs},
		{`^sites ` + quoted + ` and ` + quoted + ` have the same topics within ` + floatArg + ` s$`, "Waits until two sites' clusters have the same topics (replicas and heartbeats; Kafka's and MirrorMaker 2's bookkeeping left out): MirrorMaker 2 and the replicator, fed the same flows, must name their replicas alike.", st.sameTopics},
		{`^a telemetry topic and an event of every CSC reach exactly the databases coverage says, field by field, within ` + floatArg + ` s$`, "On a stand taken from Sasquatch's deployment (a sasquatch block): publishes a telemetry topic and an event of every CSC its producers serve, then checks what stand coverage says both ways: each database it says ingests a topic holds every sample, field by field as written; every other database of every site holds none.", st.coverageHolds},
		{`^databases ` + quoted + ` and ` + quoted + ` at ` + quoted + ` hold the same points within ` + floatArg + ` s$`, "Waits until two databases hold the same points, measurement by measurement and field by field, time included (Telegraf and the sink, fed the same topics).", st.samePoints},
		{`^the (?:sink|replication flow|component) ` + quoted + ` logged no errors$`, "Asserts a component run as a process (MirrorMaker 2, Telegraf, a binary) wrote no error line.", st.loggedNoErrors},
		{`^topic ` + quoted + ` exists at ` + quoted + `$`, "Asserts a Kafka topic exists at a site's cluster.", st.topicExists},
		{`^topic ` + quoted + ` does not exist at ` + quoted + `$`, "Asserts a Kafka topic does not exist at a site's cluster.", st.topicDoesNotExist},
		{`^a mocksal process publishes ` + cscArg + ` ` + quoted + ` at ` + floatArg + ` Hz for ` + floatArg + ` s on domain (\d+)$`, "Runs the mocksal binary as a process of its own on a DDS domain of the stand's cross-process bus; blocks until it exits.", st.publishProcess},
		{`^producer ` + quoted + ` has read no sample of ` + cscArg + ` ` + quoted + `$`, "Asserts from the producer's own metrics that it never read the topic (domain isolation at the producer).", st.producerReadNone},
		{`^producer ` + quoted + ` has read every sample of ` + cscArg + ` ` + quoted + `$`, "Asserts from the producer's own metrics that it read as many samples of the topic as this scenario wrote.", st.producerReadAll},
		{`^` + cscArg + ` publishes (\d+) samples? of ` + quoted + ` on domain (\d+)$`, "Writes a number of samples of a topic as fast as readers take them; blocks until written.", st.publishCount},
		{`^` + cscArg + ` publishes ` + quoted + ` at ` + floatArg + ` Hz for ` + floatArg + ` s on domain (\d+) in the background$`, "Starts writing a topic and goes on to the next step at once; delivery checks wait for the writer.", st.publishBackground},
		{`^CSC ` + quoted + ` is added to producer ` + quoted + `$`, "Hot-adds a CSC (CSC or CSC:index) to a running producer (its admin API for a binary).", st.hotAdd},
		{`^every schema id in topic ` + quoted + ` at ` + quoted + ` resolves at its registry to the schema it has at ` + quoted + `$`, "Reads every record of a topic and checks that each schema id resolves at the site's registry (a remote one, for replicated topics) to the very schema the source site's registry has.", st.idsResolve},
		{`^a producer starts at ` + quoted + ` for (\w+) with field ` + quoted + ` of ` + quoted + ` changed to ` + quoted + `$`, "Starts a producer whose interface has one field's IDL type changed (a new ts_xml release); notes the topic's records before.", st.changedProducer},
		{`^the producer is refused with an error naming ` + quoted + `$`, "Asserts the producer of the previous step did not start, and why.", st.producerRefused},
		{`^no record was added to topic ` + quoted + ` at ` + quoted + `$`, "Asserts a topic has as many records as before the producer of the previous step started.", st.noRecordAdded},
		{`^` + cscArg + ` publishes ` + quoted + ` at ` + floatArg + ` Hz for ` + floatArg + ` s to Kafka as writer ` + quoted + `$`, "Writes one topic as a Kafka-era SAL component of the stand's writer group (ts_salobj 8) does: straight to the group's site's Kafka under its subname, topics created and schemas registered first, no DDS domain and no producer; blocks until written and flushed.", st.publishKafka},
		{`^` + cscArg + ` publishes ` + quoted + ` as SAL text to ` + quoted + ` at ` + floatArg + ` Hz for ` + floatArg + ` s$`, "Writes one topic of a CSC as SAL's plain-text messages to a site's Kafka (topic <CSC>_telemetry, _event or _command), as SAL once did; samples are checked like DDS traffic, where a SAL transform's output (lsst.sal.<CSC>_<topic>) takes them.", st.publishText},
		{`^the line ` + quoted + ` is written to topic ` + quoted + ` at ` + quoted + `$`, "Writes one raw message to a Kafka topic at a site (a malformed SAL text line, say).", st.writeLine},
		{`^the SAL transform ` + quoted + ` has skipped (\d+) malformed messages? within ` + floatArg + ` s$`, "Waits until the transform counted that many messages that were not SAL text of a known topic (logged and skipped, never fatal).", st.transformSkipped},
		{`^the (kafka|registry|influxdb) at ` + quoted + ` is (paused|unpaused|stopped|started|disconnected|reconnected)$`, "Acts on a site's container (containers backend): docker pause/unpause (frozen: connections hang), stop/start (its data kept; Kafka's host port stays), network disconnect/reconnect.", st.containerFault},
		{`^(\d+) AliECS (run|environment) events are published to topic ` + quoted + ` at ` + quoted + `( relying on auto-creation)?$`, "Publishes protobuf events as AliECS does (aliecs.Event, one per message, a publisher name and sequence in each); the publisher creates the topic first unless told to rely on the broker's auto-creation, when a refused write is dropped as AliECS's producer drops it.", st.publishEvents},
		{`^the AliECS events to topic ` + quoted + ` at ` + quoted + ` are reported as ` + quoted + ` within ` + floatArg + ` s$`, `Reads the topic from its start with no consumer group and compares the events of this scenario's publisher with what it published: "delivered exactly once", "first event lost", or "lost N"; the verdict goes into the report.`, st.eventsReportedAs},
		{`^a debugging consumer joins the group of the sink ` + quoted + `$`, "Starts a consumer in the sink's own consumer group on the sink's topics, committing what it reads, as an engineer's console consumer run with the application's group would: the group shares the partitions out between the two.", st.debugInGroup},
		{`^a debugging consumer with no group reads the topics of the sink ` + quoted + `$`, "Starts a consumer of the sink's topics with direct partition assignment and no group, as the harness's taps read: it takes nothing from anyone.", st.debugNoGroup},
		{`^the debugging consumer took the samples the sink did not write to ` + quoted + ` at ` + quoted + ` within ` + floatArg + ` s$`, "Asserts that samples published in this scenario are missing from the database, and that for each topic the debugging consumer read at least as many records as are missing: it stole them from the sink.", st.debugStole},
		{`^the debugging consumer read every sample published in this scenario within ` + floatArg + ` s$`, "Asserts the debugging consumer read, from each topic the sink writes, at least as many records as this scenario published to it.", st.debugReadAll},
		{`^(\d+) metrics? ` + quoted + ` with tags ` + quoted + ` (?:are|is) posted to the REST proxy ` + quoted + `(?: with token ` + quoted + `)? at ` + floatArg + ` Hz$`, "Creates the topic through the proxy's v3 API (if it is not there), then posts analysis metrics (topic lsst.dm.<metric>; tags as k=v,k=v) one per request with the Avro schema, then its id; remembers each metric's timestamp and value.", st.postMetrics},
		{`^every posted metric ` + quoted + ` is in database ` + quoted + ` at ` + quoted + ` with its tags within ` + floatArg + ` s$`, "Waits until every metric this scenario posted to the topic is a point of measurement <topic> with time = its timestamp (µs), its value, and each tag stored as an InfluxDB tag; fails naming what is missing.", st.metricsDelivered},
		{`^the REST proxy ` + quoted + ` refuses (?:a post to|posts to) topic ` + quoted + `(?: with token ` + quoted + `)? with status (\d+)$`, "Posts one metric and asserts the proxy answers with that HTTP status (401 without a valid token, 403 for a topic outside the token's prefixes, 404 for a missing topic) and wrote nothing.", st.restRefuses},
		{`^end-to-end latency p(50|90|99|99\.9) of ` + cscArg + ` ` + quoted + ` is (below|above) ` + floatArg + ` (ms|s)$`, "Asserts a percentile of the latency from private_sndStamp to visibility at the last checked target.", st.latencyBound},
		{`^latency p(50|90|99|99\.9) of ` + cscArg + ` ` + quoted + ` to ` + quoted + ` is (below|above) ` + floatArg + ` (ms|s)$`, `Asserts a percentile of the latency from private_sndStamp to one hop of the path to the last checked target ("dds→producer", "→kafka@summit", "→kafka@usdf", "→influxdb@usdf").`, st.hopLatencyBound},
	}
}

// Library documents the steps (`stand steps` prints it).
func Library() []StepDoc { return (&Steps{}).library() }

// Initialize registers hooks and steps on a godog scenario context.
func (st *Steps) Initialize(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		state := &scenarioState{sc: st.Env.NewScenario(context.Background()), started: time.Now(), lastTarget: map[*Traffic]Target{}, outages: map[string]*outage{},
			recordings: map[string]string{}}
		st.mu.Lock()
		if st.scenarios == nil {
			st.scenarios = map[string]*scenarioState{}
		}
		st.scenarios[p.Id] = state
		st.mu.Unlock()
		return context.WithValue(ctx, ctxKey{}, state), nil
	})
	sc.StepContext().After(func(ctx context.Context, step *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		if state, ok := ctx.Value(ctxKey{}).(*scenarioState); ok && status == godog.StepFailed && state.failedStep == "" {
			state.failedStep = step.Text
		}
		return ctx, nil
	})
	sc.After(func(ctx context.Context, p *godog.Scenario, err error) (context.Context, error) {
		state, ok := ctx.Value(ctxKey{}).(*scenarioState)
		if !ok {
			return ctx, nil
		}
		state.sc.Close()
		if herr := st.Env.HealNetwork(); herr != nil && err == nil {
			err = fmt.Errorf("healing the network after the scenario: %w", herr)
		}
		if state.recordDir != "" {
			os.RemoveAll(state.recordDir)
		}
		if state.debug != nil {
			state.debug.close()
		}
		r := reports.Scenario{
			Feature: p.Uri, Name: p.Name, Status: "passed",
			Duration: time.Since(state.started), Topics: append(state.sc.Results(), state.extra...),
			Faults: state.faultReports(),
		}
		if err != nil {
			r.Status, r.Error, r.FailedStep = "failed", err.Error(), state.failedStep
			if errors.Is(err, godog.ErrUndefined) {
				r.Status = "undefined"
			}
		}
		st.mu.Lock()
		st.Collected = append(st.Collected, r)
		delete(st.scenarios, p.Id)
		st.mu.Unlock()
		if st.Progress != nil {
			st.Progress.Done.Add(1)
			if r.Status != "passed" {
				st.Progress.Failed.Add(1)
			}
			// From the ledgers, not the verdicts: a topic checked at two
			// targets has two verdicts of the same samples.
			for _, tr := range state.sc.AllTraffic() {
				st.Progress.Sent.Add(int64(len(tr.Writes())))
			}
			for _, t := range state.extra {
				st.Progress.Sent.Add(int64(t.Sent))
			}
		}
		return ctx, nil
	})

	for _, d := range st.library() {
		sc.Step(d.Pattern, d.Func)
	}
}

func state(ctx context.Context) *scenarioState {
	s, _ := ctx.Value(ctxKey{}).(*scenarioState)
	return s
}

func (st *Steps) standIsUp(ctx context.Context) error {
	for _, n := range st.Env.ComponentNames() {
		if !st.Env.Running(n) {
			return fmt.Errorf("component %q is not running", n)
		}
	}
	return nil
}

func parseIndex(s string) int32 {
	if s == "" {
		return 0
	}
	n, _ := strconv.Atoi(s)
	return int32(n)
}

func seconds(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second))
}
