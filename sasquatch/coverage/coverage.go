package coverage

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/replication"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sasquatch"
)

// Severity of a flag: an error fails a gate (exit 1), a warning does not.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Kind names what a flag is about.
type Kind string

const (
	Unconsumed      Kind = "unconsumed"       // at an environment, no consumer ingests it
	Duplicate       Kind = "duplicate"        // two consumers ingest it into one database
	MirroredUnread  Kind = "mirrored-unread"  // a mirrored prefix nothing reads
	WrongRegistry   Kind = "wrong-registry"   // read through a registry that does not serve it
	SettingsDiffer  Kind = "settings-differ"  // source and target ingest it differently
	KafkaVersion    Kind = "kafka-version"    // Telegraf speaks a newer protocol than the brokers
	UndeliveredSize Kind = "undelivered-size" // max_undelivered_messages not a multiple of metric_batch_size
	Manifest        Kind = "manifest"         // the rendered manifests say something twice
)

var severities = map[Kind]Severity{
	Unconsumed: Warning, Duplicate: Error, MirroredUnread: Warning, WrongRegistry: Error,
	SettingsDiffer: Warning, KafkaVersion: Error, UndeliveredSize: Warning, Manifest: Warning,
}

// Flag is one disagreement between the layers.
type Flag struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Env      string   `json:"env"`
	// Subject is the topic, prefix or consumer it is about.
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// Ingest is one consumer ingesting a topic.
type Ingest struct {
	Consumer  string   `json:"consumer"`
	Databases []string `json:"databases"`
	// Registry is the registry it decodes with, "" when the URL names
	// none of the environment's; RegistryServes is whose schemas that
	// registry serves ("local" or a source's alias).
	Registry       string `json:"registry"`
	RegistryServes string `json:"registry_serves"`
}

// Row is one topic at one environment.
type Row struct {
	Env string `json:"env"`
	// Topic is the name at the environment ("summit.lsst.sal.X.y"), or a
	// prefix's stand-in ("lsst.dm.*").
	Topic string `json:"topic"`
	// Base is the name at its source ("lsst.sal.X.y").
	Base string `json:"base"`
	// Origin is "produced", or "mirrored from <alias>".
	Origin  string   `json:"origin"`
	Ingests []Ingest `json:"ingests"`
}

// Report is the coverage of a set of environments.
type Report struct {
	Envs  []string `json:"envs"`
	Rows  []Row    `json:"rows"`
	Flags []Flag   `json:"flags"`
}

// Errors counts the flags of severity error.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Flags {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Counts counts the flags by kind.
func (r *Report) Counts() map[Kind]int {
	out := map[Kind]int{}
	for _, f := range r.Flags {
		out[f.Kind]++
	}
	return out
}

// Options say what is produced where.
type Options struct {
	// Interfaces are the SAL interfaces whose topics the SAL
	// environments produce (lsst.sal.<CSC>.<topic>).
	Interfaces *sal.Interfaces
	// SALAt are the environments where CSCs write their topics; nil
	// means every environment some mirror names as its source.
	SALAt []string
}

// prefixTopic stands for every topic under a non-SAL prefix.
const prefixTopic = "*"

// topic is one topic an environment holds.
type topic struct {
	name, base, origin, source string
	prefix                     bool
}

// Compute works out the coverage of the deployments.
func Compute(deps []*sasquatch.Deployment, opts Options) *Report {
	r := &Report{}
	byEnv := map[string]*sasquatch.Deployment{}
	for _, d := range deps {
		r.Envs = append(r.Envs, d.Env)
		byEnv[d.Env] = d
	}
	salAt := opts.SALAt
	if salAt == nil {
		for _, d := range deps {
			for _, m := range d.Mirrors {
				if !slices.Contains(salAt, m.Source) {
					salAt = append(salAt, m.Source)
				}
			}
		}
	}
	prefixes := nonSALPrefixes(deps)
	// What each environment produces: SAL where CSCs write, its own
	// KafkaTopics, and the non-SAL prefixes it names as its own.
	produced := map[string][]topic{}
	produce := func(env string, t topic) {
		if !slices.ContainsFunc(produced[env], func(x topic) bool { return x.name == t.name }) {
			produced[env] = append(produced[env], t)
		}
	}
	for _, env := range salAt {
		if opts.Interfaces != nil {
			for _, name := range opts.Interfaces.Names() {
				for _, tp := range opts.Interfaces.Component(name).Topics {
					n := tp.KafkaTopic("sal")
					produce(env, topic{name: n, base: n, origin: "produced"})
				}
			}
		}
		produce(env, topic{name: "registry-schemas", base: "registry-schemas", origin: "produced"})
	}
	for _, d := range deps {
		for _, t := range d.Topics {
			produce(d.Env, topic{name: t.Name, base: t.Name, origin: "produced"})
		}
		for _, p := range prefixes[d.Env] {
			n := p + "." + prefixTopic
			produce(d.Env, topic{name: n, base: n, origin: "produced", prefix: true})
		}
	}
	// A mirror's source produces what it mirrors of the non-SAL prefixes
	// too, when the source is not among the deployments given.
	for _, d := range deps {
		for _, m := range d.Mirrors {
			if byEnv[m.Source] != nil {
				continue
			}
			for _, p := range mirrorPrefixes(m) {
				n := p + "." + prefixTopic
				produce(m.Source, topic{name: n, base: n, origin: "produced", prefix: true})
			}
		}
	}
	// What each environment holds: what it produces, and what its
	// mirrors copy from their sources.
	held := map[string][]topic{}
	for _, d := range deps {
		held[d.Env] = append(held[d.Env], produced[d.Env]...)
		for _, m := range d.Mirrors {
			for _, t := range produced[m.Source] {
				if m.Flow.Replicates(t.name) {
					held[d.Env] = append(held[d.Env], topic{name: m.Flow.RemoteTopic(t.name), base: t.base,
						origin: "mirrored from " + m.Source, source: m.Source, prefix: t.prefix})
				}
			}
		}
	}
	for _, d := range deps {
		r.coverEnv(d, held[d.Env])
		r.checkConsumers(d)
		for _, w := range d.Warnings {
			r.flag(Manifest, d.Env, "manifests", w)
		}
	}
	r.compareEnvs(deps)
	slices.SortStableFunc(r.Rows, func(a, b Row) int { return cmp.Or(cmp.Compare(a.Env, b.Env), cmp.Compare(a.Topic, b.Topic)) })
	slices.SortStableFunc(r.Flags, func(a, b Flag) int {
		return cmp.Or(cmp.Compare(a.Severity, b.Severity), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Env, b.Env), cmp.Compare(a.Subject, b.Subject))
	})
	return r
}

func (r *Report) flag(k Kind, env, subject, msg string) {
	r.Flags = append(r.Flags, Flag{Kind: k, Severity: severities[k], Env: env, Subject: subject, Message: msg})
}

// coverEnv makes the rows of d's topics and flags what no consumer, or
// two of one database, or the wrong registry, ingest.
func (r *Report) coverEnv(d *sasquatch.Deployment, topics []topic) {
	var rows []Row
	wrong := map[string]*wrongRead{} // by consumer and registry
	dups := map[string]*wrongRead{}  // by database and consumers
	for _, t := range topics {
		row := Row{Env: d.Env, Topic: t.name, Base: t.base, Origin: t.origin}
		byDB := map[string][]string{}
		for _, c := range d.Consumers {
			if !c.Matches(t.name) {
				continue
			}
			in := Ingest{Consumer: c.Name, Databases: c.Databases}
			reg := d.RegistryFor(c.Registry)
			if reg != nil {
				in.Registry, in.RegistryServes = reg.Name, cmp.Or(reg.Remote(), "local")
			}
			row.Ingests = append(row.Ingests, in)
			for _, db := range c.Databases {
				byDB[db] = append(byDB[db], c.Name)
			}
			if c.DataFormat == "avro" {
				if msg := registryMismatch(d, c, t, reg); msg != "" {
					w := wrong[c.Name+"|"+msg]
					if w == nil {
						w = &wrongRead{subject: c.Name, what: msg}
						wrong[c.Name+"|"+msg] = w
					}
					w.add(t.name)
				}
			}
		}
		rows = append(rows, row)
		if len(row.Ingests) == 0 && t.name != "registry-schemas" && !strings.HasSuffix(t.name, ".registry-schemas") {
			r.flag(Unconsumed, d.Env, t.name, fmt.Sprintf("%s (%s) is at %s and no consumer ingests it", t.name, t.origin, d.Env))
		}
		for db, cs := range byDB {
			if len(cs) > 1 {
				key := db + "|" + strings.Join(cs, ", ")
				w := dups[key]
				if w == nil {
					w = &wrongRead{subject: strings.Join(cs, ", "), what: fmt.Sprintf("consumers %s all ingest into database %s", strings.Join(cs, ", "), db)}
					dups[key] = w
				}
				w.add(t.name)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(wrong)) {
		w := wrong[k]
		r.flag(WrongRegistry, d.Env, w.subject, w.message())
	}
	for _, k := range slices.Sorted(maps.Keys(dups)) {
		w := dups[k]
		r.flag(Duplicate, d.Env, w.subject, w.message())
	}
	r.Rows = append(r.Rows, rows...)
	for _, m := range d.Mirrors {
		for _, p := range m.Patterns {
			pat, err := replication.CompileTopicPattern(p)
			if err != nil || p == "registry-schemas" {
				continue // compiled at load
			}
			read := slices.ContainsFunc(rows, func(row Row) bool {
				return row.Origin == "mirrored from "+m.Source && len(row.Ingests) > 0 && pat.MatchString(row.Base)
			})
			if !read {
				r.flag(MirroredUnread, d.Env, p, fmt.Sprintf("%s mirrors %s from %s and no consumer at %s reads a topic of it", d.Env, p, m.Source, d.Env))
			}
		}
	}
}

// wrongRead gathers the topics one mistake is made for.
type wrongRead struct {
	subject, what string
	topics        []string
}

func (w *wrongRead) add(t string) { w.topics = append(w.topics, t) }

func (w *wrongRead) message() string {
	n := len(w.topics)
	slices.Sort(w.topics)
	eg := w.topics[0]
	if n > 1 {
		return fmt.Sprintf("%s: %d topics, e.g. %s", w.what, n, eg)
	}
	return fmt.Sprintf("%s: %s", w.what, eg)
}

// registryMismatch says why a consumer decodes t through a registry that
// does not serve t's schemas ("" when it does): replicated topics carry
// their source's ids, served at the target by the remote registry on
// <alias>.registry-schemas; local topics the local registry's.
func registryMismatch(d *sasquatch.Deployment, c *sasquatch.Consumer, t topic, reg *sasquatch.Registry) string {
	want := cmp.Or(t.source, "local")
	switch {
	case reg == nil:
		return fmt.Sprintf("consumer %s decodes through %s, which is none of %s's registries", c.Name, c.Registry, d.Env)
	case cmp.Or(reg.Remote(), "local") != want:
		return fmt.Sprintf("consumer %s decodes %s topics through %s, which serves %s schemas: their ids decode other topics' schemas",
			c.Name, cmp.Or(t.source, "local"), reg.Name, cmp.Or(reg.Remote(), "local"))
	}
	return ""
}

// checkConsumers flags a consumer's own settings against its brokers.
func (r *Report) checkConsumers(d *sasquatch.Deployment) {
	for _, c := range d.Consumers {
		if d.Kafka != nil && c.KafkaVersion != "" && d.Kafka.Version != "" && versionAbove(c.KafkaVersion, d.Kafka.Version) {
			r.flag(KafkaVersion, d.Env, c.Name, fmt.Sprintf("consumer %s speaks Kafka %s, above the brokers' %s", c.Name, c.KafkaVersion, d.Kafka.Version))
		}
		if c.MetricBatchSize > 0 && c.MaxUndelivered > 0 && c.MaxUndelivered%c.MetricBatchSize != 0 {
			r.flag(UndeliveredSize, d.Env, c.Name, fmt.Sprintf("consumer %s: max_undelivered_messages %d is not a multiple of metric_batch_size %d: its last batch waits for flush_interval",
				c.Name, c.MaxUndelivered, c.MetricBatchSize))
		}
	}
}

// compareEnvs flags topics that a source and a target environment ingest
// with different settings.
func (r *Report) compareEnvs(deps []*sasquatch.Deployment) {
	consumerOf := func(env, name string) *sasquatch.Consumer {
		for _, d := range deps {
			if d.Env == env {
				return d.Consumer(name)
			}
		}
		return nil
	}
	at := map[string]map[string]Row{} // env → base → row
	for _, row := range r.Rows {
		if at[row.Env] == nil {
			at[row.Env] = map[string]Row{}
		}
		at[row.Env][row.Base] = row
	}
	seen := map[string]bool{}
	for _, d := range deps {
		for _, m := range d.Mirrors {
			for _, base := range slices.Sorted(maps.Keys(at[d.Env])) {
				tr := at[d.Env][base]
				if tr.Origin != "mirrored from "+m.Source || len(tr.Ingests) == 0 {
					continue
				}
				sr, ok := at[m.Source][base]
				if !ok || len(sr.Ingests) == 0 {
					continue
				}
				s, t := consumerOf(m.Source, sr.Ingests[0].Consumer), consumerOf(d.Env, tr.Ingests[0].Consumer)
				if s == nil || t == nil {
					continue
				}
				diffs := settingsDiff(s, t)
				key := m.Source + ">" + d.Env + ":" + s.Name + "/" + t.Name
				if len(diffs) == 0 || seen[key] {
					continue
				}
				seen[key] = true
				r.flag(SettingsDiffer, d.Env, t.Name, fmt.Sprintf("%s's %s and %s's %s ingest the same topics (e.g. %s) differently: %s",
					m.Source, s.Name, d.Env, t.Name, base, strings.Join(diffs, "; ")))
			}
		}
	}
}

// settingsDiff lists the settings that shape points and differ.
func settingsDiff(a, b *sasquatch.Consumer) []string {
	var out []string
	diff := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s %v vs %v", name, x, y))
		}
	}
	diff("metric_batch_size", a.MetricBatchSize, b.MetricBatchSize)
	diff("max_undelivered_messages", a.MaxUndelivered, b.MaxUndelivered)
	diff("avro_tags", a.Tags, b.Tags)
	diff("avro_timestamp", a.Timestamp, b.Timestamp)
	diff("avro_timestamp_format", a.TimestampFormat, b.TimestampFormat)
	return out
}

// nonSALPrefixes are the non-SAL topic prefixes each environment names as
// its own: its REST proxy's, and the literal prefixes of its consumers'
// topic_regexps that no mirror brings in.
func nonSALPrefixes(deps []*sasquatch.Deployment) map[string][]string {
	out := map[string][]string{}
	add := func(env, p string) {
		p = strings.TrimSuffix(p, ".")
		if p == "" || p == "lsst" || strings.HasPrefix(p, "lsst.sal") || slices.Contains(out[env], p) {
			return
		}
		out[env] = append(out[env], p)
	}
	for _, d := range deps {
		for _, p := range d.RestPrefixes {
			add(d.Env, p)
		}
		for _, c := range d.Consumers {
			for _, re := range c.TopicRegexps {
				p := literalPrefix(re)
				if strings.HasPrefix(p, "lsst.") && !mirrored(d, p) {
					add(d.Env, p)
				}
			}
		}
		slices.Sort(out[d.Env])
	}
	return out
}

// mirrored reports whether a prefix's topics come into d by a mirror.
func mirrored(d *sasquatch.Deployment, p string) bool {
	for _, m := range d.Mirrors {
		if strings.HasPrefix(p, m.Source+m.Separator) || m.Flow.Replicates(p+"."+prefixTopic) {
			return true
		}
	}
	return false
}

// mirrorPrefixes are the non-SAL prefixes a mirror's patterns name
// ("lsst.dm.*" and "lsst\.dm\..*" give lsst.dm).
func mirrorPrefixes(m *sasquatch.Mirror) []string {
	var out []string
	for _, p := range m.Patterns {
		lit := strings.TrimSuffix(strings.TrimSuffix(strings.ReplaceAll(p, `\.`, "."), "*"), ".")
		if strings.HasPrefix(lit, "lsst.") && !strings.HasPrefix(lit, "lsst.sal") && names.MatchString(lit) {
			out = append(out, lit)
		}
	}
	return out
}

// names spells a dotted name and nothing else ("lsst.ATCamera").
var names = regexp.MustCompile(`^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$`)

// literalPrefix is the name a Go regexp selects by: the pattern itself
// when it is only names and dots ("lsst.ATCamera", whose dots match any
// character but mean a dot), else its literal prefix ("lsst\.dm").
func literalPrefix(re *regexp.Regexp) string {
	if s := re.String(); names.MatchString(s) {
		return s
	}
	p, _ := re.LiteralPrefix()
	return p
}

// versionAbove reports whether dotted version a is above b.
func versionAbove(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x > y
		}
	}
	return false
}
