// load.go reads a stand: its file and the files it extends, merged node
// by node, environment expansion, defaults and its interfaces.

package stand

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sink"
)

// LoadOptions adjust loading.
type LoadOptions struct {
	// InterfacesDir overrides the stand's "interfaces" (a ts_xml
	// sal_interfaces directory).
	InterfacesDir string
	// Backend, when set, overrides the stand's backend.
	Backend string
	// Replicator, when "mirrormaker2", runs every flow the stand would
	// run in-process with real MirrorMaker 2 instead (backend process or
	// containers),
	// so that the replication features check MM2 itself.
	Replicator string
	// DDS, when set, overrides the stand's DDS transport.
	DDS string
}

// Load reads, decodes and validates a stand file. Every error names the
// file and, where it can, the line and column.
func Load(path string, opts LoadOptions) (*Stand, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stand: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse decodes and validates stand YAML read from path.
func Parse(path string, data []byte, opts LoadOptions) (*Stand, error) {
	alone, root, files, err := readStand(path, data, nil)
	if err != nil {
		return nil, err
	}
	s := *alone // a stand that extends nothing is decoded once
	if len(files) > 1 {
		s = Stand{File: path, files: files}
		if err := root.Decode(&s); err != nil { // each file was decoded strictly alone
			return nil, yamlx.ErrorAt(err, root, &s, sectionName, s.posAt)
		}
	}
	s.File, s.files, s.tree = path, files, root
	if err := s.checkEmptyEntries(); err != nil {
		return nil, err
	}
	if opts.DDS != "" {
		s.DDS = opts.DDS
	}
	if opts.Backend != "" {
		s.Backend = Backend(opts.Backend)
	}
	if err := s.fromSasquatch(); err != nil {
		return nil, err
	}
	mm2Where := ""
	if s.MirrorMakerFile != "" {
		if len(s.MirrorMaker) > 0 {
			return nil, fmt.Errorf("%s: mirrormaker and mirrormaker_file exclude each other", s.where(yamlx.Path{"mirrormaker_file"}))
		}
		mm2Where = s.MirrorMakerFile
		if !filepath.IsAbs(mm2Where) {
			mm2Where = filepath.Join(filepath.Dir(path), mm2Where)
		}
		data, err := readRegular(mm2Where)
		if err != nil {
			return nil, fmt.Errorf("%s: mirrormaker_file: %w", s.where(yamlx.Path{"mirrormaker_file"}), err)
		}
		props, err := replication.ReadProperties(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mm2Where, err)
		}
		for _, p := range props {
			if !connectionKey.MatchString(p.Key) {
				s.MirrorMaker = append(s.MirrorMaker, p)
			}
		}
	}
	if len(s.MirrorMaker) > 0 {
		if err := s.mirrorMakerFlows(mm2Where); err != nil {
			return nil, err
		}
	}
	switch RunMode(opts.Replicator) {
	case "", InProcess:
	case MirrorMaker2:
		for _, f := range s.Replication {
			if f.Run == "" || f.Run == InProcess {
				f.Run = MirrorMaker2
			}
		}
		s.Heartbeats = nil // MM2 emits its own
	default:
		return nil, fmt.Errorf("replicator %q: want inprocess or mirrormaker2", opts.Replicator)
	}
	if err := s.checkFigures(); err != nil {
		return nil, err
	}
	if err := s.defaults(); err != nil {
		return nil, err
	}
	ifaces, err := s.loadInterfaces(opts)
	if err != nil {
		at := path // given with --ts-xml, say
		if opts.InterfacesDir == "" && s.given(yamlx.Path{"interfaces"}) {
			at = s.where(yamlx.Path{"interfaces"})
		}
		return nil, fmt.Errorf("%s: interfaces: %w", at, err)
	}
	s.Loaded = ifaces
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// readStand reads a stand file, and the files it extends, into one YAML
// tree. Each file is first decoded strictly on its own, so an unknown key
// or a wrong type is reported at its own file and line; line numbers of
// base files are shifted by lineShift per level (see Stand.pos).
func readStand(path string, data []byte, seen []string) (*Stand, *yaml.Node, []string, error) {
	data, err := yamlx.Expand(path, data, os.LookupEnv)
	if err != nil {
		return nil, nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, nil, yamlx.Error(path, err, sectionName)
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil, fmt.Errorf("%s:1: empty stand file", path)
	}
	var alone Stand
	if err := yamlx.Decode(path, data, &alone, sectionName); err != nil {
		return nil, nil, nil, err
	}
	root := doc.Content[0]
	if alone.Extends == "" {
		return &alone, root, []string{path}, nil
	}
	ext, _ := yamlx.Lookup(root, yamlx.Path{"extends"})
	at := fmt.Sprintf("%s:%d:%d", path, ext.Line, ext.Column)
	basePath := alone.Extends
	if !filepath.IsAbs(basePath) {
		basePath = filepath.Join(filepath.Dir(path), basePath)
	}
	if chain := append(seen, path); len(seen) >= 5 || slices.Contains(chain, basePath) {
		return nil, nil, nil, fmt.Errorf("%s: extends loops or nests too deep: %s", at, strings.Join(append(chain, basePath), " → "))
	}
	baseData, err := readRegular(basePath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: extends: %w", at, err)
	}
	_, base, baseFiles, err := readStand(basePath, baseData, append(seen, path))
	if err != nil {
		return nil, nil, nil, err
	}
	shiftLines(base, lineShift)
	dropKey(root, "extends")
	return &alone, mergeNodes(base, root), append([]string{path}, baseFiles...), nil
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

func dropKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			return
		}
	}
}

// mergeNodes lays over on base: mappings merge key by key, lists whose
// items all have a "name" merge item by item (a new name is appended),
// anything else from over replaces base.
func mergeNodes(base, over *yaml.Node) *yaml.Node {
	switch {
	case base.Kind == yaml.MappingNode && over.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(over.Content); i += 2 {
			k, v := over.Content[i], over.Content[i+1]
			found := false
			for j := 0; j+1 < len(base.Content); j += 2 {
				if base.Content[j].Value == k.Value {
					base.Content[j+1] = mergeNodes(base.Content[j+1], v)
					found = true
					break
				}
			}
			if !found {
				base.Content = append(base.Content, k, v)
			}
		}
		return base
	case base.Kind == yaml.SequenceNode && over.Kind == yaml.SequenceNode && named(base) && named(over):
		for _, item := range over.Content {
			name := itemName(item)
			merged := false
			for j, b := range base.Content {
				if itemName(b) == name {
					base.Content[j] = mergeNodes(b, item)
					merged = true
					break
				}
			}
			if !merged {
				base.Content = append(base.Content, item)
			}
		}
		return base
	}
	return over
}

func named(seq *yaml.Node) bool {
	for _, item := range seq.Content {
		if itemName(item) == "" {
			return false
		}
	}
	return len(seq.Content) > 0
}

func itemName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func sectionName(goType string) string {
	switch goType {
	case "Stand":
		return "the stand"
	case "Site":
		return "a site"
	case "KafkaSpec":
		return "kafka"
	case "RegistrySpec":
		return "registry"
	case "InfluxSpec":
		return "influxdb"
	case "ContainersSpec":
		return "containers"
	case "ProducerSpec":
		return "a producer"
	case "FlowSpec":
		return "a replication flow"
	case "SinkSpec":
		return "a sink"
	case "RestProxySpec":
		return "a REST proxy"
	case "SalTransformSpec":
		return "a SAL transform"
	case "TrafficSpec":
		return "a traffic"
	}
	return goType
}

func (s *Stand) defaults() error {
	if s.Version == 0 {
		s.Version = 1
	}
	if s.Version != 1 {
		return fmt.Errorf("%s: version %d: this teststand reads version 1", s.where(yamlx.Path{"version"}), s.Version)
	}
	if s.Backend == "" {
		s.Backend = Embedded
	}
	if s.Interfaces == "" {
		s.Interfaces = "builtin"
	}
	for _, site := range s.Sites {
		if site == nil {
			continue
		}
		if site.Kafka.Brokers == 0 {
			site.Kafka.Brokers = 1
		}
	}
	if err := s.normalizeRegistries(); err != nil {
		return err
	}
	for _, site := range s.Sites {
		if site != nil && site.Registry != nil && site.Registry.Topic == "" {
			site.Registry.Topic = "registry-schemas"
		}
	}
	for i, p := range s.Producers {
		if p.Name == "" {
			p.Name = "producer-" + strconv.Itoa(i+1)
		}
	}
	pairs := map[[2]string]bool{}
	for _, f := range s.Replication {
		if f.Name == "" {
			f.Name = f.Source.Value + "->" + f.Target.Value
		}
		if f.Run == "" && s.Backend == External {
			f.Run = ExternalRun
		}
		if f.Refresh.Duration == 0 {
			f.Refresh.Duration = 500 * time.Millisecond
		}
		if len(s.MirrorMaker) > 0 || f.Run == MirrorMaker2 {
			continue // heartbeats come from the MM2 properties, or from MM2
		}
		every := time.Second
		if f.Heartbeats != nil {
			every = f.Heartbeats.Duration
		}
		if every <= 0 {
			continue
		}
		// As MM2: heartbeats into the target, and into the source for
		// the flow to carry them over as "<source>.heartbeats".
		for _, p := range [][2]string{{f.Source.Value, f.Target.Value}, {f.Target.Value, f.Source.Value}} {
			if !pairs[p] {
				pairs[p] = true
				s.Heartbeats = append(s.Heartbeats, HeartbeatSpec{Source: p[0], Target: p[1], Interval: every})
			}
		}
	}
	for i, k := range s.Sinks {
		if k.Name == "" {
			k.Name = "sink-" + strconv.Itoa(i+1)
		}
		if k.Run == "" && s.Backend == External {
			k.Run = ExternalRun
		}
		if len(k.Rules) > 0 && (len(k.Topics) > 0 || k.Database != "") {
			return fmt.Errorf("%s: sink %q: topics/database and rules exclude each other", s.where(yamlx.Path{"sinks", i, "rules"}), k.Name)
		}
		if len(k.Rules) == 0 {
			if k.Database == "" {
				k.Database = "efd"
			}
			k.Rules = []sink.RuleSpec{{Topics: k.Topics, Database: k.Database}}
		}
	}
	return nil
}

// readRegular reads a regular file, and refuses anything else a stand
// might name (a directory, a device, a FIFO) with an error rather than
// reading it forever.
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Op = "open" // what reading it would have said
		return nil, pe
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return os.ReadFile(path)
}
