// Command stand brings test stands up from YAML, runs Gherkin features
// against them and writes reports. Exit codes: 0 all passed, 1 a scenario
// failed, 2 bad input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lsst-ts/teststand/harness"
)

const usage = `usage:
  stand run STAND.yaml [--features DIR[,DIR]] [--tags EXPR] [--report DIR] [--ts-xml DIR]
  stand validate STAND.yaml...
  stand steps`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
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
		file, rest := splitFirst(args[1:])
		if err := fs.Parse(rest); err != nil || file == "" {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		res, err := harness.Run(ctx, harness.RunConfig{
			Stand: file, Output: stdout, Features: strings.Split(*features, ","), Tags: *tags,
			ReportDir: *report, InterfacesDir: *tsxml,
		})
		if err != nil {
			fmt.Fprintln(stderr, "stand:", err)
			var bad *harness.BadInputError
			if errors.As(err, &bad) {
				return 2
			}
			return 1
		}
		fmt.Fprint(stdout, harness.Summary(res))
		if !res.Passed {
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
			if _, err := harness.Load(f, harness.LoadOptions{InterfacesDir: os.Getenv("TS_XML_DIR")}); err != nil {
				fmt.Fprintln(stderr, err)
				code = 2
				continue
			}
			fmt.Fprintf(stdout, "%s: valid\n", f)
		}
		return code
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
