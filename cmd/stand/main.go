package main

import (
	"context"
	"flag"
	"fmt"
	_ "github.com/lsst-ts/teststand/dds/cyclonedds" // registers the cyclonedds transport in -tags cyclonedds builds
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lsst-ts/teststand/harness"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/reports"
	"github.com/lsst-ts/teststand/sasquatch/coverage"
)

const usage = `usage:
  stand run STAND.yaml [--features DIR[,DIR]] [--tags EXPR] [--report DIR] [--ts-xml DIR] [--parallel N] [--keep-up] [--backend B]
  stand up STAND.yaml [--ts-xml DIR] [--state FILE]   (the held stand's state file, default out/up/<stand>.json)
  stand record --out FILE (--topics REGEX | --measurements REGEX) ...   (stand record -h: capture into a recording)
  stand validate STAND.yaml...
  stand report RESULTS.json [--out DIR]
  stand coverage [--phalanx CHART] [--env E,E] [--manifests|--telegraf|--mirrormaker2 ENV=FILE]... [--ts-xml DIR]
                 [--sal-at E,E] [--base VALUES --proposed VALUES] [--json] [--html FILE] [--rows]
  stand schema                       (the stand files' JSON Schema)
  stand steps
  stand registry [--url URL] list [--versions] [--compatibility]
  stand registry [--url URL] show SUBJECT [--version N]
  stand registry [--url URL] test SUBJECT FILE.avsc [--version N]
  stand registry [--url URL] upload SUBJECT FILE.avsc
  stand registry [--url URL] delete SUBJECT [--version N] [--permanent]
  stand registry [--url URL] compat [--subject S] [--set LEVEL]
  stand admin|hello|salschema ...    (Kafka admin tools: stand admin with no arguments lists them)`

func main() {
	os.Exit(cli.Profiled("stand", func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		features := fs.String("features", "features", "feature files or directories, comma-separated")
		tags := fs.String("tags", "", "godog tag expression")
		report := fs.String("report", "", "report directory (default out/<run id>)")
		tsxml := fs.String("ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory (overrides the stand's interfaces)")
		keepUp := fs.Bool("keep-up", false, "leave the last stand up after the run until Ctrl-C, printing its endpoints")
		backend := fs.String("backend", "", "override the stand's backend: embedded, external, process (real Apache Kafka) or containers")
		replicator := fs.String("replicator", "", "mirrormaker2: run the stands' replication flows with real MirrorMaker 2 (backend process)")
		ddsTransport := fs.String("dds", "", "override the stand's DDS transport: simulated or cyclonedds (real DDS; a build with -tags cyclonedds)")
		parallel := fs.Int("parallel", 1, "stands run at once: a stand's feature files are shared out among that many copies of it")
		file, rest := splitFirst(args[1:])
		if err := fs.Parse(rest); err != nil || file == "" {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		res, err := harness.Run(ctx, harness.RunConfig{
			Stand: file, Output: stdout, Features: strings.Split(*features, ","), Tags: *tags,
			ReportDir: *report, InterfacesDir: *tsxml, KeepUp: *keepUp, Parallel: *parallel, Backend: *backend, Replicator: *replicator, DDS: *ddsTransport,
		})
		if err != nil {
			fmt.Fprintln(stderr, "stand:", err)
			return exit.Code(err)
		}
		fmt.Fprint(stdout, harness.Summary(res))
		if !res.Passed {
			return 1
		}
		return 0
	case "coverage":
		fs := flag.NewFlagSet("coverage", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var cfg coverage.Config
		fs.StringVar(&cfg.Chart, "phalanx", "", "Phalanx's Sasquatch chart (phalanx/applications/sasquatch)")
		envs := fs.String("env", "", "environments to render from the chart, comma-separated (summit,usdfprod)")
		fs.Func("manifests", "ENV=FILE: an environment's rendered manifests (repeatable)", func(v string) error { cfg.Manifests = append(cfg.Manifests, v); return nil })
		fs.Func("telegraf", "ENV=FILE: a telegraf.conf of an environment (repeatable)", func(v string) error { cfg.Telegraf = append(cfg.Telegraf, v); return nil })
		fs.Func("mirrormaker2", "ENV=FILE: a KafkaMirrorMaker2 YAML into an environment (repeatable)", func(v string) error { cfg.MirrorMaker2 = append(cfg.MirrorMaker2, v); return nil })
		fs.StringVar(&cfg.Interfaces, "ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory whose topics the SAL environments produce")
		salAt := fs.String("sal-at", "", "environments where CSCs write, comma-separated (default: every mirror's source)")
		fs.StringVar(&cfg.Base, "base", "", "the values-<env>.yaml in use")
		fs.StringVar(&cfg.Proposed, "proposed", "", "the values-<env>.yaml proposed: show what the change does")
		fs.BoolVar(&cfg.JSON, "json", false, "write JSON")
		fs.StringVar(&cfg.HTML, "html", "", "also write an HTML page to this file")
		fs.BoolVar(&cfg.Rows, "rows", false, "list every topic")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		cfg.Envs, cfg.SALAt = cli.List(*envs), cli.List(*salAt)
		errs, err := coverage.Run(ctx, cfg, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "stand coverage:", err)
			return exit.Code(err)
		}
		if errs > 0 {
			return 1
		}
		return 0
	case "validate":
		if len(args) < 2 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		code := 0
		for _, f := range args[1:] {
			st, err := harness.Load(f, harness.LoadOptions{InterfacesDir: os.Getenv("TS_XML_DIR")})
			if err != nil {
				fmt.Fprintln(stderr, err)
				code = 2
				continue
			}
			for _, w := range st.Warnings() {
				fmt.Fprintln(stderr, "warning:", w)
			}
			fmt.Fprintf(stdout, "%s: valid\n", f)
		}
		return code
	case "up":
		fs := flag.NewFlagSet("up", flag.ContinueOnError)
		fs.SetOutput(stderr)
		tsxml := fs.String("ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory (overrides the stand's interfaces)")
		state := fs.String("state", "", "where to write the held stand's endpoints for other commands (default out/up/<stand>.json)")
		file, rest := splitFirst(args[1:])
		if err := fs.Parse(rest); err != nil || file == "" {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		if *state == "" {
			*state = harness.HeldPath(file)
		}
		err := harness.Hold(ctx, harness.HoldConfig{Stand: file, InterfacesDir: *tsxml, Output: stdout, StateFile: *state})
		if err != nil {
			fmt.Fprintln(stderr, "stand:", err)
		}
		return exit.Code(err)
	case "report":
		fs := flag.NewFlagSet("report", flag.ContinueOnError)
		fs.SetOutput(stderr)
		outDir := fs.String("out", "", "directory for index.html and results.json (default: the results file's)")
		file, rest := splitFirst(args[1:])
		if err := fs.Parse(rest); err != nil || file == "" {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		res, err := reports.Load(file)
		if err != nil {
			fmt.Fprintln(stderr, "stand:", err)
			return 2
		}
		dir := *outDir
		if dir == "" {
			dir = filepath.Dir(file)
		}
		if err := reports.Write(dir, res); err != nil {
			fmt.Fprintln(stderr, "stand:", err)
			return 1
		}
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "index.html"))
		return 0
	case "registry":
		return registryCommand(ctx, args[1:], stdout, stderr)
	case "record":
		return recordCommand(ctx, args[1:], stdout, stderr)
	case "admin":
		return adminCommand(ctx, args[1:], stdout, stderr)
	case "hello":
		return helloCommand(ctx, args[1:], stdout, stderr)
	case "salschema":
		return salschemaCommand(ctx, args[1:], stdout, stderr)
	case "schema":
		fmt.Fprint(stdout, harness.StandSchema())
		return 0
	case "steps":
		for _, s := range harness.Library() {
			fmt.Fprintf(stdout, "%s\n    %s\n", s.Pattern, s.Doc)
		}
		return 0
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

// splitFirst separates the positional stand file from flags, so that the
// file may come before or after them.
func splitFirst(args []string) (string, []string) {
	var file string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				rest = append(rest, args[i+1])
				i++
			}
			continue
		}
		if file == "" {
			file = a
		} else {
			rest = append(rest, a)
		}
	}
	return file, rest
}

// registryCommand parses `stand registry` and calls registry.Admin.
func registryCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("registry", flag.ContinueOnError)
	top.SetOutput(stderr)
	url := top.String("url", cli.Env("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"), "registry URL")
	if err := top.Parse(args); err != nil || top.NArg() == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	fs := flag.NewFlagSet("registry "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	versions := fs.Bool("versions", false, "list: show versions")
	compat := fs.Bool("compatibility", false, "list: show compatibility levels")
	version := fs.Int("version", 0, "version (default: the latest, or all for delete)")
	permanent := fs.Bool("permanent", false, "delete: permanently (after a soft delete)")
	subject := fs.String("subject", "", "compat: subject (default: the global level)")
	set := fs.String("set", "", "compat: set this level")
	pos, flags := splitArgs(rest, "versions", "compatibility", "permanent")
	if err := fs.Parse(flags); err != nil {
		return 2
	}
	need := map[string]int{"list": 0, "show": 1, "test": 2, "upload": 2, "delete": 1, "compat": 0}
	n, ok := need[cmd]
	if !ok || len(pos) != n {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	a, err := registry.NewAdmin(*url, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "stand registry:", err)
		return 2
	}
	switch cmd {
	case "list":
		err = a.List(ctx, *versions, *compat)
	case "show":
		err = a.Show(ctx, pos[0], *version)
	case "test":
		var okc bool
		okc, err = a.Test(ctx, pos[0], pos[1], *version)
		if err == nil && !okc {
			return 1
		}
	case "upload":
		err = a.Upload(ctx, pos[0], pos[1])
	case "delete":
		err = a.Delete(ctx, pos[0], *version, *permanent)
	case "compat":
		err = a.Compat(ctx, *subject, *set)
	}
	if err != nil {
		fmt.Fprintln(stderr, "stand registry:", err)
		return 1
	}
	return 0
}
