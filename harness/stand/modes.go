package stand

import (
	"fmt"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
)

// Backend is what runs a stand's sites.
type Backend string

const (
	// Embedded runs the stand in this process: kfake clusters, in-process
	// registries, components and sinks.
	Embedded Backend = "embedded"
	// Process runs each site's Kafka as real Apache Kafka in KRaft mode,
	// one JVM per broker; the rest as embedded, and flows and sinks may
	// run as real MirrorMaker 2 and Telegraf.
	Process Backend = "process"
	// Containers runs the sites (Kafka, registry, InfluxDB) and, on
	// request, the components in containers.
	Containers Backend = "containers"
	// External takes the sites as running clusters, registries and
	// InfluxDBs given by address: the stand's producers run here against
	// them, its flows and sinks are the deployment's own.
	External Backend = "external"
)

// backends are the backends, in the order errors list them.
var backends = []Backend{Embedded, External, Process, Containers}

// RealKafka reports whether the backend runs real Apache Kafka (as
// processes or in containers), which MirrorMaker 2 and Telegraf need.
func (b Backend) RealKafka() bool { return b == Process || b == Containers }

// known reports whether b is one of the backends.
func (b Backend) known() bool { return slices.Contains(backends, b) }

// JSONSchema implements jsonschema's custom schema: one of the backends.
func (Backend) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Enum: anys(backends)}
}

// RunMode is how a stand runs one of its components.
type RunMode string

const (
	// InProcess runs the component in this process (the default).
	InProcess RunMode = "inprocess"
	// Binary runs the component's binary as a subprocess.
	Binary RunMode = "binary"
	// Container runs the component's binary in the components image.
	Container RunMode = "container"
	// ExternalRun is the deployment's own component (external backend).
	ExternalRun RunMode = "external"
	// Telegraf is a sink run as Telegraf's kafka_consumer.
	Telegraf RunMode = "telegraf"
	// MirrorMaker2 is a flow run by real MirrorMaker 2 in dedicated mode.
	MirrorMaker2 RunMode = "mirrormaker2"
)

// Kind is a kind of stand component that has a run mode.
type Kind string

const (
	ProducerKind  Kind = "producer"
	FlowKind      Kind = "replication flow"
	SinkKind      Kind = "sink"
	RestProxyKind Kind = "REST proxy"
)

// modeRule is one run mode a kind of component allows.
type modeRule struct {
	mode RunMode
	// on are the backends that run the component so; none: every one.
	on []Backend
	// why is the reason it cannot run so on any other backend.
	why string
}

const InContainersOnly = "only the containers backend runs components in containers"

// runModes is which run modes each kind of component allows on which
// backend, in the order errors list them. Validation and the JSON Schema's
// enums are both drawn from it.
var runModes = map[Kind][]modeRule{
	ProducerKind: {
		{mode: InProcess}, {mode: Binary},
		{mode: Container, on: []Backend{Containers}, why: InContainersOnly},
	},
	FlowKind: {
		{mode: InProcess},
		{mode: ExternalRun, on: []Backend{External}, why: "only a stand on the external backend has a deployment of its own"},
		{mode: MirrorMaker2, on: []Backend{Process, Containers}, why: "real MirrorMaker 2 needs real Kafka: backend process or containers"},
	},
	SinkKind: {
		{mode: InProcess}, {mode: Binary},
		{mode: Container, on: []Backend{Containers}, why: InContainersOnly},
		{mode: ExternalRun, on: []Backend{External}, why: "only a stand on the external backend has a deployment of its own"},
		{mode: Telegraf, on: []Backend{Process, Containers}, why: "Telegraf's Kafka client (Sarama) needs real Kafka: backend process or containers"},
	},
	RestProxyKind: {
		{mode: InProcess}, {mode: Binary},
		{mode: Container, on: []Backend{Containers}, why: InContainersOnly},
	},
}

// RunModes are the run modes a kind of component allows on some backend.
func RunModes(k Kind) []RunMode {
	var out []RunMode
	for _, r := range runModes[k] {
		out = append(out, r.mode)
	}
	return out
}

// checkRun refuses a run mode that kind k has not, or that backend b
// does not run; "" (the default) is always allowed.
func checkRun(k Kind, mode RunMode, b Backend) error {
	if mode == "" {
		return nil
	}
	for _, r := range runModes[k] {
		if r.mode != mode {
			continue
		}
		if len(r.on) > 0 && !slices.Contains(r.on, b) {
			return fmt.Errorf("run %s: %s", mode, r.why)
		}
		return nil
	}
	return fmt.Errorf("run %q: want %s", mode, orList(RunModes(k)))
}

// runEnum sets the enum of the "run" property of s to kind k's modes.
func runEnum(s *jsonschema.Schema, k Kind) {
	if p, ok := s.Properties.Get("run"); ok {
		p.Enum = anys(RunModes(k))
	}
}

// orList is "a, b or c".
func orList[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func anys[T ~string](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// AddBackend makes name a backend stands may name, besides the four
// above: the harness's registry of backends (harness.RegisterBackend)
// adds the ones it has. It is called from init functions, before any
// stand is loaded.
func AddBackend(name Backend) {
	if !slices.Contains(backends, name) {
		backends = append(backends, name)
	}
}
