package harness

import "github.com/lsst-ts/teststand/harness/stand"

// The stand model (the YAML a stand is written in, its loading and
// validation) is package stand; these names keep the harness's API, and
// the code and tests written against it, as they were.
type (
	Stand              = stand.Stand
	Site               = stand.Site
	KafkaSpec          = stand.KafkaSpec
	RegistrySpec       = stand.RegistrySpec
	RemoteRegistrySpec = stand.RemoteRegistrySpec
	InfluxSpec         = stand.InfluxSpec
	ProducerSpec       = stand.ProducerSpec
	FlowSpec           = stand.FlowSpec
	FaultSpec          = stand.FaultSpec
	LinkSpec           = stand.LinkSpec
	ContainersSpec     = stand.ContainersSpec
	RestProxySpec      = stand.RestProxySpec
	SalTransformSpec   = stand.SalTransformSpec
	TrafficSpec        = stand.TrafficSpec
	HeartbeatSpec      = stand.HeartbeatSpec
	SinkSpec           = stand.SinkSpec
	MM2Block           = stand.MM2Block
	Ref                = stand.Ref
	Duration           = stand.Duration
	LoadOptions        = stand.LoadOptions
	RunMode            = stand.RunMode
)

// Backends and run modes (see package stand).
const (
	Embedded   = stand.Embedded
	Process    = stand.Process
	Containers = stand.Containers
	External   = stand.External

	InProcess    = stand.InProcess
	Binary       = stand.Binary
	Container    = stand.Container
	ExternalRun  = stand.ExternalRun
	Telegraf     = stand.Telegraf
	MirrorMaker2 = stand.MirrorMaker2
)

// Load reads, decodes and validates a stand file (stand.Load).
func Load(path string, opts LoadOptions) (*Stand, error) { return stand.Load(path, opts) }

// Parse decodes and validates stand YAML read from path (stand.Parse).
func Parse(path string, data []byte, opts LoadOptions) (*Stand, error) {
	return stand.Parse(path, data, opts)
}

// StandSchema is the JSON Schema of stand files (stand.Schema).
func StandSchema() string { return stand.Schema() }
