// record.go holds what `stand record` runs: a held stand's state file
// (how other commands reach a stand that `stand up` keeps up) and
// Record, which captures a site's Kafka topics or EFD measurements into
// a recording.

package harness

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/capture"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/atomicfile"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kafkasec"
)

// HeldFormat names the format of a held stand's state file.
const HeldFormat = "teststand-held/1"

// Held is a held stand's state file: where each of its sites listens,
// for the commands that work on a running stand (`stand record --stand`).
// `stand up` writes it once the stand is up and removes it when it goes
// down.
type Held struct {
	Format string `json:"format"`
	// Stand is the stand file, Name its name.
	Stand string `json:"stand"`
	Name  string `json:"name"`
	// Interfaces is the ts_xml directory of the stand's interfaces, ""
	// for the built-in set.
	Interfaces string `json:"interfaces"`
	// PID is the process holding the stand up.
	PID int `json:"pid"`
	// DDSBasePort is the stand's cross-process DDS bus (a mocksal
	// process joins it with --dds-base-port), Domains the domains its
	// producers read.
	DDSBasePort int                 `json:"dds_base_port"`
	Domains     []int               `json:"dds_domains"`
	Sites       map[string]HeldSite `json:"sites"`
}

// HeldSite is where one site of a held stand listens.
type HeldSite struct {
	Brokers []string `json:"brokers"`
	// Registry is the site's own registry; RemoteRegistries its remote
	// ones by source alias, which serve the replicas named
	// <alias><Separator><topic>.
	Registry         string            `json:"registry,omitempty"`
	RemoteRegistries map[string]string `json:"remote_registries,omitempty"`
	Separator        string            `json:"separator,omitempty"`
	// InfluxDB is the site's InfluxDB; Databases its databases by the
	// stand's names, as stored there (prefixed on a shared influxd).
	InfluxDB    string            `json:"influxdb,omitempty"`
	InfluxOrg   string            `json:"influx_org,omitempty"`
	InfluxToken string            `json:"influx_token,omitempty"`
	Databases   map[string]string `json:"databases,omitempty"`
}

// Held describes the running stand for its state file.
func (e *Env) Held() Held {
	h := Held{Format: HeldFormat, Stand: e.Stand.File, Name: e.Stand.Name, Interfaces: e.Stand.InterfacesDir(), PID: os.Getpid(),
		DDSBasePort: e.DDSBasePort, Sites: map[string]HeldSite{}}
	for _, p := range e.Stand.Producers {
		if !slices.Contains(h.Domains, p.Domain) {
			h.Domains = append(h.Domains, p.Domain)
		}
	}
	slices.Sort(h.Domains)
	for _, name := range e.Stand.SiteNames() {
		se := e.Sites[name]
		if se == nil {
			continue
		}
		hs := HeldSite{Brokers: se.Brokers, Registry: se.ownURL, RemoteRegistries: maps.Clone(se.RemoteURLs),
			InfluxDB: se.InfluxURL, InfluxOrg: se.InfluxOrg, InfluxToken: se.InfluxToken}
		if e.sec != nil {
			hs.InfluxToken = "" // a secured stand's is a secret of the run: never in a file
		}
		for _, f := range e.Stand.Replication {
			if f.Target.Value == name && hs.Separator == "" {
				hs.Separator = cmp.Or(f.Separator, ".")
			}
		}
		if spec := e.Stand.Sites[name].InfluxDB; spec != nil {
			hs.Databases = map[string]string{}
			for _, db := range spec.Names() {
				hs.Databases[db] = e.Database(name, db)
			}
		}
		h.Sites[name] = hs
	}
	return h
}

// writeHeld writes the stand's state file atomically.
func (e *Env) writeHeld(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(e.Held())
	})
}

// HeldPath is the state file of a held stand: standOrFile itself when
// it is a .json file, else out/up/<name>.json for a stand's file
// (scenarios/summit-usdf.yaml) or name (summit-usdf), where `stand up`
// writes it by default.
func HeldPath(standOrFile string) string {
	if strings.HasSuffix(standOrFile, ".json") {
		return standOrFile
	}
	base := filepath.Base(standOrFile)
	return filepath.Join("out", "up", strings.TrimSuffix(base, filepath.Ext(base))+".json")
}

// ReadHeld reads a held stand's state file.
func ReadHeld(path string) (*Held, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &BadInputError{Err: fmt.Errorf("%s: no held stand (is `stand up` running? it writes this file once the stand is up): %w", path, err)}
		}
		return nil, err
	}
	var h Held
	if err := json.Unmarshal(b, &h); err != nil || h.Format != HeldFormat {
		return nil, &BadInputError{Err: fmt.Errorf("%s: not a held stand's state file (want format %q)", path, HeldFormat)}
	}
	return &h, nil
}

// site is the named site of a held stand.
func (h *Held) site(path, name string) (HeldSite, error) {
	if name == "" && len(h.Sites) == 1 {
		for _, s := range h.Sites {
			return s, nil
		}
	}
	s, ok := h.Sites[name]
	if !ok {
		return HeldSite{}, &BadInputError{Err: fmt.Errorf("%s: stand %s has no site %q (sites: %s)", path, h.Name, name, strings.Join(slices.Sorted(maps.Keys(h.Sites)), ", "))}
	}
	return s, nil
}

// RecordConfig is `stand record`: what to capture, from where, into
// which file.
type RecordConfig struct {
	// Out is the recording written; it appears whole or not at all.
	Out string
	// State and Site name a held stand's site (its state file); its
	// endpoints are the defaults of those below.
	State, Site string

	// From Kafka: Topics (a Java regex on whole names) at Brokers,
	// through Registry (and Remotes, by source alias, for replicas).
	Topics                             string
	Brokers                            []string
	Registry                           string
	Remotes                            map[string]string
	Separator                          string
	Security                           kafkasec.Config
	RegistryUsername, RegistryPassword string

	// From an EFD: Measurements (a Java regex on whole names) of
	// Database at EFD (an InfluxDB URL, or the held site's), mapped onto
	// the topics of InterfacesDir (default: the held stand's, or the
	// built-in set).
	Measurements             string
	EFD, Database            string
	EFDUsername, EFDPassword string
	InterfacesDir            string

	// From and To are the time range; Duration, instead, records from
	// now for that long (Kafka only).
	From, To time.Time
	Duration time.Duration

	Output io.Writer
	Logger *slog.Logger
}

// Record captures what cfg names into cfg.Out and prints one line saying
// what it recorded. Errors in what was asked are *BadInputError; nothing
// is written when it fails.
func Record(ctx context.Context, cfg RecordConfig) error {
	bad := func(format string, a ...any) error { return &BadInputError{Err: fmt.Errorf(format, a...)} }
	if cfg.Out == "" {
		return bad("give the recording's file (--out)")
	}
	efd := cfg.Measurements != ""
	switch {
	case efd && cfg.Topics != "":
		return bad("--topics (Kafka) and --measurements (an EFD) exclude each other")
	case !efd && cfg.Topics == "":
		return bad("give --topics (a site's Kafka) or --measurements (an EFD)")
	case cfg.Duration > 0 && (!cfg.From.IsZero() || !cfg.To.IsZero()):
		return bad("--duration and --from/--to exclude each other")
	case cfg.Duration > 0 && efd:
		return bad("an EFD is read for a time range: give --from and --to")
	case cfg.Duration <= 0 && (cfg.From.IsZero() || cfg.To.IsZero()):
		return bad("give --duration, or --from and --to (RFC 3339)")
	}
	var held *Held
	var hs HeldSite
	if cfg.State != "" {
		var err error
		if held, err = ReadHeld(cfg.State); err != nil {
			return err
		}
		if hs, err = held.site(cfg.State, cfg.Site); err != nil {
			return err
		}
	} else if cfg.Site != "" {
		return bad("--site names a site of a held stand: give its state file (--stand)")
	}
	from, to := cfg.From, cfg.To
	var grace time.Duration
	if cfg.Duration > 0 {
		// Records stamped just before the end may still be on their way.
		from, to, grace = time.Now(), time.Now().Add(cfg.Duration), time.Second
	}
	log := cmp.Or(cfg.Logger, slog.Default())
	var st capture.Stats
	err := atomicfile.Write(cfg.Out, func(w io.Writer) error {
		var err error
		if efd {
			st, err = recordEFD(ctx, cfg, held, hs, from, to, w)
			return err
		}
		kc := capture.KafkaConfig{
			Brokers: cfg.Brokers, Security: cfg.Security, Topics: cfg.Topics,
			Registry: cmp.Or(cfg.Registry, hs.Registry), RegistryUsername: cfg.RegistryUsername, RegistryPassword: cfg.RegistryPassword,
			Remotes: cfg.Remotes, Separator: cmp.Or(cfg.Separator, hs.Separator), From: from, To: to, Grace: grace, Logger: log,
		}
		if len(kc.Brokers) == 0 {
			kc.Brokers = hs.Brokers
		}
		if kc.Remotes == nil {
			kc.Remotes = hs.RemoteRegistries
		}
		if len(kc.Brokers) == 0 {
			return bad("give the Kafka brokers (--brokers), or a held stand's site (--stand, --site)")
		}
		st, err = capture.Kafka(ctx, kc, w)
		return err
	})
	if err != nil {
		return err
	}
	var out io.Writer = os.Stdout
	if cfg.Output != nil {
		out = cfg.Output
	}
	fmt.Fprintf(out, "recorded %d samples of %d topics (%d schemas), %s to %s, into %s\n", st.Samples, len(st.Topics), st.Schemas,
		st.First.UTC().Format(time.RFC3339Nano), st.Last.UTC().Format(time.RFC3339Nano), cfg.Out)
	return nil
}

// recordEFD captures an EFD's measurements, at cfg.EFD or at the held
// site's InfluxDB.
func recordEFD(ctx context.Context, cfg RecordConfig, held *Held, hs HeldSite, from, to time.Time, w io.Writer) (capture.Stats, error) {
	c := &influxd.Client{URL: cmp.Or(cfg.EFD, hs.InfluxDB), Username: cfg.EFDUsername, Password: cfg.EFDPassword}
	if cfg.EFD == "" {
		c.Org, c.Token = hs.InfluxOrg, hs.InfluxToken
	}
	if c.URL == "" {
		return capture.Stats{}, &BadInputError{Err: errors.New("give the EFD's InfluxDB URL (--efd), or a held stand's site with one (--stand, --site)")}
	}
	db := cfg.Database
	if stored, ok := hs.Databases[db]; ok && cfg.EFD == "" {
		db = stored
	}
	if db == "" {
		return capture.Stats{}, &BadInputError{Err: errors.New("give the database (--db)")}
	}
	dir := cfg.InterfacesDir
	if dir == "" && held != nil {
		dir = held.Interfaces
	}
	ifaces, err := cli.Interfaces(dir)
	if err != nil {
		return capture.Stats{}, &BadInputError{Err: err}
	}
	return capture.EFD(ctx, capture.EFDConfig{Client: c, Database: db, Measurements: cfg.Measurements, From: from, To: to, Interfaces: ifaces}, w)
}
