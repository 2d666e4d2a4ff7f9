package coverage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/sasquatch"
)

// Config is one `stand coverage`.
type Config struct {
	// Chart is Phalanx's Sasquatch chart (applications/sasquatch).
	Chart string
	// Envs are the environments rendered from Chart.
	Envs []string
	// Manifests, Telegraf and MirrorMaker2 are further environments read
	// from files rather than rendered: env=FILE each.
	Manifests, Telegraf, MirrorMaker2 []string
	// Interfaces is the ts_xml sal_interfaces directory ("" for the
	// project's sample set).
	Interfaces string
	// SALAt are the environments where CSCs write (nil: every mirror's
	// source).
	SALAt []string
	// Base and Proposed, when set, are two values files of one
	// environment (values-<env>.yaml): the report is what changing the
	// first for the second does.
	Base, Proposed string
	// JSON writes JSON instead of text; HTML, when set, also writes the
	// page to that file; Rows lists every topic in the text.
	JSON, Rows bool
	HTML       string
}

// Run loads the environments, works out their coverage and writes it to
// w. It returns the number of flags of severity error (in the proposed
// coverage when comparing); bad input is an exit.BadInput error.
func Run(ctx context.Context, cfg Config, w io.Writer) (int, error) {
	if cfg.Proposed != "" || cfg.Base != "" {
		return runChange(ctx, cfg, w)
	}
	deps, err := load(ctx, cfg, "", "")
	if err != nil {
		return 0, err
	}
	r, err := compute(cfg, deps)
	if err != nil {
		return 0, err
	}
	if err := write(cfg, w, r); err != nil {
		return 0, err
	}
	return r.Errors(), nil
}

// runChange compares the coverage with the base values of an
// environment against that with the proposed ones.
func runChange(ctx context.Context, cfg Config, w io.Writer) (int, error) {
	if cfg.Base == "" || cfg.Proposed == "" {
		return 0, &exit.BadInput{Err: fmt.Errorf("--base and --proposed go together")}
	}
	env := envOf(cfg.Proposed)
	if env == "" || envOf(cfg.Base) != env {
		return 0, &exit.BadInput{Err: fmt.Errorf("--base %s and --proposed %s: name both values-<env>.yaml for one environment", cfg.Base, cfg.Proposed)}
	}
	if !slices.Contains(cfg.Envs, env) {
		cfg.Envs = append(cfg.Envs, env)
	}
	base, err := load(ctx, cfg, env, cfg.Base)
	if err != nil {
		return 0, err
	}
	proposed, err := load(ctx, cfg, env, cfg.Proposed)
	if err != nil {
		return 0, err
	}
	br, err := compute(cfg, base)
	if err != nil {
		return 0, err
	}
	pr, err := compute(cfg, proposed)
	if err != nil {
		return 0, err
	}
	c := Diff(br, pr)
	if cfg.JSON {
		if err := WriteJSON(w, struct {
			Change   Change  `json:"change"`
			Proposed *Report `json:"proposed"`
		}{c, pr}); err != nil {
			return 0, err
		}
	} else {
		fmt.Fprintf(w, "what %s instead of %s does to %s:\n\n", cfg.Proposed, cfg.Base, strings.Join(cfg.Envs, ", "))
		if err := WriteChange(w, c); err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "\nwith the proposed values: %d flags (%d errors)\n", len(pr.Flags), pr.Errors())
	}
	if cfg.HTML != "" {
		if err := writeHTMLFile(cfg.HTML, pr); err != nil {
			return 0, err
		}
	}
	return pr.Errors(), nil
}

// envOf is the environment a values-<env>.yaml names.
func envOf(file string) string {
	b := filepath.Base(file)
	if e, ok := strings.CutPrefix(strings.TrimSuffix(b, filepath.Ext(b)), "values-"); ok {
		return e
	}
	return ""
}

// load reads every environment cfg names; env's values are values when
// set.
func load(ctx context.Context, cfg Config, env, values string) ([]*sasquatch.Deployment, error) {
	var out []*sasquatch.Deployment
	if len(cfg.Envs) > 0 && cfg.Chart == "" {
		return nil, &exit.BadInput{Err: fmt.Errorf("--env needs --phalanx (the Sasquatch chart of Phalanx)")}
	}
	for _, e := range cfg.Envs {
		c := sasquatch.Chart{Dir: cfg.Chart, Env: e}
		if e == env {
			c.Values = []string{values}
		}
		d, err := sasquatch.Load(ctx, c)
		if err != nil {
			return nil, &exit.BadInput{Err: err}
		}
		out = append(out, d)
	}
	for _, set := range []struct {
		list  []string
		flag  string
		parse func(env, file string, data []byte) (*sasquatch.Deployment, error)
	}{
		{cfg.Manifests, "--manifests", sasquatch.ParseManifests},
		{cfg.Telegraf, "--telegraf", sasquatch.ParseTelegrafFile},
		{cfg.MirrorMaker2, "--mirrormaker2", sasquatch.ParseMirrorMaker2},
	} {
		for _, kv := range set.list {
			e, file, ok := strings.Cut(kv, "=")
			if !ok || e == "" || file == "" {
				return nil, &exit.BadInput{Err: fmt.Errorf("%s %q: want ENV=FILE", set.flag, kv)}
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, &exit.BadInput{Err: err}
			}
			d, err := set.parse(e, file, data)
			if err != nil {
				return nil, &exit.BadInput{Err: err}
			}
			out = append(out, merge(out, d)...)
		}
	}
	if len(out) == 0 {
		return nil, &exit.BadInput{Err: fmt.Errorf("no environment: give --env with --phalanx, or --manifests, --telegraf or --mirrormaker2 ENV=FILE")}
	}
	return out, nil
}

// merge adds d's parts to the deployment of the same environment in
// have, or returns d as a new one.
func merge(have []*sasquatch.Deployment, d *sasquatch.Deployment) []*sasquatch.Deployment {
	for _, h := range have {
		if h.Env == d.Env {
			h.Files = append(h.Files, d.Files...)
			h.Consumers = append(h.Consumers, d.Consumers...)
			h.Mirrors = append(h.Mirrors, d.Mirrors...)
			h.Topics = append(h.Topics, d.Topics...)
			h.Registries = append(h.Registries, d.Registries...)
			h.Warnings = append(h.Warnings, d.Warnings...)
			if h.Kafka == nil {
				h.Kafka = d.Kafka
			}
			return nil
		}
	}
	return []*sasquatch.Deployment{d}
}

func compute(cfg Config, deps []*sasquatch.Deployment) (*Report, error) {
	ifaces, err := cli.Interfaces(cfg.Interfaces)
	if err != nil {
		return nil, &exit.BadInput{Err: err}
	}
	return Compute(deps, Options{Interfaces: ifaces, SALAt: cfg.SALAt}), nil
}

func write(cfg Config, w io.Writer, r *Report) error {
	var err error
	if cfg.JSON {
		err = WriteJSON(w, r)
	} else {
		err = WriteText(w, r, cfg.Rows)
	}
	if err == nil && cfg.HTML != "" {
		err = writeHTMLFile(cfg.HTML, r)
	}
	return err
}

func writeHTMLFile(path string, r *Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteHTML(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
