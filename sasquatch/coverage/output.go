package coverage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/reports"
)

// examples is how many flags of one kind the text shows before it counts
// the rest.
const examples = 5

// WriteText writes the report for a terminal: per environment what it
// holds and ingests, then the flags by kind (the first few of each, and
// how many more); with rows, every topic too.
func WriteText(w io.Writer, r *Report, rows bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "coverage of %s\n\n", strings.Join(r.Envs, ", "))
	fmt.Fprintf(&b, "%-24s %8s %8s %8s %10s\n", "environment", "topics", "mirrored", "ingested", "not ingested")
	for _, env := range r.Envs {
		var n, mirrored, ingested int
		for _, row := range r.Rows {
			if row.Env != env {
				continue
			}
			n++
			if row.Origin != "produced" {
				mirrored++
			}
			if len(row.Ingests) > 0 {
				ingested++
			}
		}
		fmt.Fprintf(&b, "%-24s %8d %8d %8d %10d\n", env, n, mirrored, ingested, n-ingested)
	}
	if rows {
		b.WriteString("\n")
		for _, row := range r.Rows {
			fmt.Fprintf(&b, "%s  %s  (%s)  %s\n", row.Env, row.Topic, row.Origin, ingestText(row.Ingests))
		}
	}
	counts := r.Counts()
	fmt.Fprintf(&b, "\n%d flags (%d errors)\n", len(r.Flags), r.Errors())
	var kinds []Kind
	for k := range counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b Kind) int { return cmp.Or(cmp.Compare(severities[a], severities[b]), cmp.Compare(a, b)) })
	for _, k := range kinds {
		fmt.Fprintf(&b, "\n%s %s: %d\n", severities[k], k, counts[k])
		shown := 0
		for _, f := range r.Flags {
			if f.Kind != k {
				continue
			}
			if shown == examples {
				fmt.Fprintf(&b, "  … and %d more (--json lists them all)\n", counts[k]-examples)
				break
			}
			fmt.Fprintf(&b, "  %s: %s\n", f.Env, f.Message)
			shown++
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ingestText(in []Ingest) string {
	if len(in) == 0 {
		return "not ingested"
	}
	var parts []string
	for _, i := range in {
		parts = append(parts, fmt.Sprintf("%s → %s via %s", i.Consumer, strings.Join(i.Databases, ","), cmp.Or(i.Registry, "no registry")))
	}
	return strings.Join(parts, "; ")
}

// WriteJSON writes a report (or a change) as JSON.
func WriteJSON(w io.Writer, r any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var page = template.Must(template.New("coverage").Funcs(template.FuncMap{
	"ingests": ingestText,
	"css":     func() template.CSS { return template.CSS(reports.Style) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>teststand coverage — {{.Envs}}</title>
<style>{{css}}</style>
</head>
<body>
<div class="banner {{if .Errors}}FAIL{{else}}PASS{{end}}">
  <div class="verdict">{{if .Errors}}FAIL{{else}}PASS{{end}}</div>
  <dl><dt>environments</dt><dd>{{range .Envs}}{{.}} {{end}}</dd>
  <dt>flags</dt><dd>{{len .Flags}} ({{.Errors}} errors)</dd></dl>
</div>
<h2>Flags</h2>
<table>
<tr><th>severity</th><th>kind</th><th>environment</th><th>subject</th><th>what</th></tr>
{{range .Flags}}<tr{{if eq .Severity "error"}} class="bad"{{end}}><td class="{{if eq .Severity "error"}}failed{{else}}skipped{{end}}">{{.Severity}}</td><td>{{.Kind}}</td><td>{{.Env}}</td><td>{{.Subject}}</td><td>{{.Message}}</td></tr>
{{end}}</table>
<h2>Topics</h2>
<table>
<tr><th>environment</th><th>topic</th><th>origin</th><th>ingested by</th></tr>
{{range .Rows}}<tr{{if not .Ingests}} class="bad"{{end}}><td>{{.Env}}</td><td>{{.Topic}}</td><td>{{.Origin}}</td><td>{{ingests .Ingests}}</td></tr>
{{end}}</table>
</body>
</html>
`))

// WriteHTML writes the report as one self-contained page in the style of
// the run reports.
func WriteHTML(w io.Writer, r *Report) error { return page.Execute(w, r) }

// Change is what a values change does to coverage.
type Change struct {
	// Added and Removed are the flags the proposed values raise that the
	// base ones did not, and those they no longer raise.
	Added, Removed []Flag
	// Ingested and Dropped are topics (at an environment) that become
	// ingested, or stop being ingested; Rerouted those whose consumers,
	// databases or registries change.
	Ingested, Dropped, Rerouted []string
}

// Diff compares the coverage of the base values with that of the
// proposed ones.
func Diff(base, proposed *Report) Change {
	var c Change
	key := func(f Flag) string { return string(f.Kind) + "|" + f.Env + "|" + f.Subject + "|" + f.Message }
	bf, pf := map[string]bool{}, map[string]bool{}
	for _, f := range base.Flags {
		bf[key(f)] = true
	}
	for _, f := range proposed.Flags {
		pf[key(f)] = true
		if !bf[key(f)] {
			c.Added = append(c.Added, f)
		}
	}
	for _, f := range base.Flags {
		if !pf[key(f)] {
			c.Removed = append(c.Removed, f)
		}
	}
	rows := func(r *Report) map[string]string {
		out := map[string]string{}
		for _, row := range r.Rows {
			out[row.Env+" "+row.Topic] = ingestText(row.Ingests)
		}
		return out
	}
	br, pr := rows(base), rows(proposed)
	for k, p := range pr {
		b, ok := br[k]
		switch {
		case (!ok || b == "not ingested") && p != "not ingested":
			c.Ingested = append(c.Ingested, k+": "+p)
		case ok && b != "not ingested" && p == "not ingested":
			c.Dropped = append(c.Dropped, k+": was "+b)
		case ok && b != p:
			c.Rerouted = append(c.Rerouted, k+": "+b+" → "+p)
		}
	}
	for k, b := range br {
		if _, ok := pr[k]; !ok && b != "not ingested" {
			c.Dropped = append(c.Dropped, k+": was "+b+" (no longer there)")
		}
	}
	slices.Sort(c.Ingested)
	slices.Sort(c.Dropped)
	slices.Sort(c.Rerouted)
	return c
}

// WriteChange writes what a change does, for a terminal.
func WriteChange(w io.Writer, c Change) error {
	var b strings.Builder
	section := func(title string, lines []string) {
		fmt.Fprintf(&b, "%s: %d\n", title, len(lines))
		for i, l := range lines {
			if i == 20 {
				fmt.Fprintf(&b, "  … and %d more\n", len(lines)-20)
				break
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	flags := func(fs []Flag) []string {
		var out []string
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%s %s %s: %s", f.Severity, f.Kind, f.Env, f.Message))
		}
		return out
	}
	section("flags raised", flags(c.Added))
	section("flags cleared", flags(c.Removed))
	section("topics now ingested", c.Ingested)
	section("topics no longer ingested", c.Dropped)
	section("topics ingested differently", c.Rerouted)
	_, err := io.WriteString(w, b.String())
	return err
}
