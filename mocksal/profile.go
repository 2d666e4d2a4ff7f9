package mocksal

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/sal"
)

// Profile is a traffic profile (YAML, version 1): a rate for every
// telemetry topic of the loaded interfaces. Rules are tried in order and
// the first that matches a topic gives its rate; topics no rule matches
// get DefaultRate. Each rule says where its rate comes from.
//
//	version: 1
//	name: nominal-summit
//	default_rate: 1
//	kinds: [telemetry, event]
//	indices: {MTHexapod: [1, 2]}  # the indices written; else 1
//	rules:
//	  - csc: MTM1M3              # regex over the CSC name, whole name
//	    topics: ".*"             # regex over sal_name, whole name
//	    rate: 50
//	    source: "M1M3 support system loop"
//	  - csc: ".*"
//	    topics: logevent_heartbeat
//	    rate: 1
//	    source: "salobj: a heartbeat a second"
//
// A rule applies to every kind the profile writes; a topic that no rule
// matches gets DefaultRate, so a profile that writes events ends with a
// rule that gives the remaining events their (low) rate.
type Profile struct {
	Version     int     `yaml:"version"`
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	DefaultRate float64 `yaml:"default_rate"`
	// DefaultSource documents the default rate.
	DefaultSource string `yaml:"default_source"`
	// Kinds lists the topic kinds written ("telemetry", "event"); empty
	// means telemetry only.
	Kinds []string `yaml:"kinds"`
	// Indices are the indices written of each indexed CSC named (every
	// one of them gets the CSC's writers); an indexed CSC not named is
	// written at index 1.
	Indices map[string][]int32 `yaml:"indices"`
	// IndicesSource documents the indices.
	IndicesSource string `yaml:"indices_source"`
	Rules         []Rule `yaml:"rules"`

	file string
}

// Rule gives matching topics a rate.
type Rule struct {
	CSC    string  `yaml:"csc"`
	Topics string  `yaml:"topics"`
	Rate   float64 `yaml:"rate"`
	Burst  int     `yaml:"burst"`
	Jitter string  `yaml:"jitter"`
	Source string  `yaml:"source"`

	re     *regexp.Regexp
	csc    *regexp.Regexp
	jitter time.Duration
}

// LoadProfile reads and checks a profile file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return ParseProfile(path, data)
}

// ParseProfile decodes and checks profile YAML read from path.
func ParseProfile(path string, data []byte) (*Profile, error) {
	var p Profile
	if err := yamlx.Decode(path, data, &p, func(t string) string {
		return map[string]string{"Profile": "the profile", "Rule": "a rule"}[t]
	}); err != nil {
		return nil, err
	}
	p.file = path
	if p.Version != 1 {
		return nil, fmt.Errorf("%s: version %d: this mocksal reads version 1", path, p.Version)
	}
	if p.DefaultRate < 0 {
		return nil, fmt.Errorf("%s: default_rate %g: want ≥ 0", path, p.DefaultRate)
	}
	for _, k := range p.Kinds {
		if k != "telemetry" && k != "event" {
			return nil, fmt.Errorf("%s: kinds: %q: want telemetry or event", path, k)
		}
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		what := fmt.Sprintf("%s: rule %d (csc %q)", path, i+1, r.CSC)
		if r.CSC == "" {
			return nil, fmt.Errorf("%s: no csc", what)
		}
		if r.Rate <= 0 {
			return nil, fmt.Errorf("%s: rate %g: want > 0 Hz", what, r.Rate)
		}
		if r.Source == "" {
			return nil, fmt.Errorf("%s: no source: say where the rate comes from", what)
		}
		pat := r.Topics
		if pat == "" {
			pat = ".*"
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: topics %q: %w", what, r.Topics, err)
		}
		r.re = re
		if r.csc, err = regexp.Compile("^(?:" + r.CSC + ")$"); err != nil {
			return nil, fmt.Errorf("%s: csc: %w", what, err)
		}
		if r.Jitter != "" {
			if r.jitter, err = time.ParseDuration(r.Jitter); err != nil || r.jitter < 0 {
				return nil, fmt.Errorf("%s: jitter %q: want a duration such as 2ms", what, r.Jitter)
			}
		}
	}
	for csc, idx := range p.Indices {
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: indices: %s: an empty list (leave the CSC out to write index 1)", path, csc)
		}
		seen := map[int32]bool{}
		for _, i := range idx {
			if i <= 0 || seen[i] {
				return nil, fmt.Errorf("%s: indices: %s: %d: want distinct indices > 0", path, csc, i)
			}
			seen[i] = true
		}
	}
	return &p, nil
}

// Planned is one writer of a resolved profile, with the rule that gave
// its rate.
type Planned struct {
	Writer WriterConfig
	Source string
	// Listed is true when the profile's indices named the writer's index
	// (else an indexed CSC's writer is at index 1, a placeholder a stand
	// replaces with the index its producer serves).
	Listed bool
}

// Unused lists the CSCs of rules that the loaded interfaces do not have
// (one profile serves several interface sets; callers say which rules
// went unused rather than drop them silently).
func (p *Profile) Unused(ifaces *sal.Interfaces) []string {
	var out []string
	for _, r := range p.Rules {
		matched := false
		for name := range ifaces.Components {
			matched = matched || r.csc.MatchString(name)
		}
		if !matched {
			out = append(out, r.CSC)
		}
	}
	for csc := range p.Indices {
		if ifaces.Component(csc) == nil && !slices.Contains(out, csc) {
			out = append(out, csc)
		}
	}
	sort.Strings(out)
	return out
}

// Resolve gives every telemetry topic (and event topic, if asked) of the
// loaded interfaces its writer, one per index the profile lists for an
// indexed CSC (index 1 when it lists none).
func (p *Profile) Resolve(ifaces *sal.Interfaces) ([]Planned, error) {
	for csc := range p.Indices {
		if c := ifaces.Component(csc); c != nil && !c.Indexed {
			return nil, fmt.Errorf("%s: indices: %s is not an indexed CSC", p.file, csc)
		}
	}
	kinds := map[sal.Kind]bool{sal.Telemetry: true}
	if len(p.Kinds) > 0 {
		kinds = map[sal.Kind]bool{}
		for _, k := range p.Kinds {
			kinds[map[string]sal.Kind{"telemetry": sal.Telemetry, "event": sal.Event}[k]] = true
		}
	}
	var out []Planned
	for _, name := range ifaces.Names() {
		c := ifaces.Component(name)
		for _, t := range c.Topics {
			if !kinds[t.Kind] {
				continue
			}
			w := WriterConfig{Topic: t, RateHz: p.DefaultRate}
			src := p.DefaultSource
			for _, r := range p.Rules {
				if r.csc.MatchString(name) && r.re.MatchString(t.Name) {
					w.RateHz, w.Burst, w.Jitter, src = r.Rate, r.Burst, r.jitter, r.Source
					break
				}
			}
			if w.RateHz <= 0 {
				continue
			}
			if !c.Indexed {
				out = append(out, Planned{Writer: w, Source: src})
				continue
			}
			listed, ok := p.Indices[name]
			if !ok {
				w.Index = 1
				out = append(out, Planned{Writer: w, Source: src})
				continue
			}
			for _, i := range listed {
				w.Index = i
				out = append(out, Planned{Writer: w, Source: src, Listed: true})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Writer, out[j].Writer
		if ka, kb := a.Topic.KafkaTopic(""), b.Topic.KafkaTopic(""); ka != kb {
			return ka < kb
		}
		return a.Index < b.Index
	})
	return out, nil
}

// Rate is the total samples per second of planned writers.
func Rate(planned []Planned) float64 {
	total := 0.0
	for _, p := range planned {
		total += p.Writer.RateHz * float64(max(p.Writer.Burst, 1))
	}
	return total
}

// Describe lists planned writers, one line each, for --dry-run output.
func Describe(planned []Planned) string {
	var b strings.Builder
	for _, p := range planned {
		name := p.Writer.Topic.KafkaTopic("")
		if p.Writer.Topic.Indexed {
			name += fmt.Sprintf(" :%d", p.Writer.Index)
		}
		fmt.Fprintf(&b, "%-64s %8.3f Hz  %s\n", name, p.Writer.RateHz, p.Source)
	}
	return b.String()
}
