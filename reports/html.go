package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type pageTopic struct {
	Topic
	Anchor  string
	Verdict string
	Failed  bool
	Time    template.HTML
	CDF     template.HTML
	Hist    template.HTML
	Rate    template.HTML
	Missing string
}

type pageScenario struct {
	Scenario
	Anchor string
	Topics []pageTopic
}

type page struct {
	*Results
	Verdict   string
	Duration  string
	NPassed   int
	NFailed   int
	Scenarios []pageScenario
	Links     []string
}

// Verdict words a delivery result: "delivered exactly once", "delivered
// with duplicates", "partially delivered", "not delivered" or "nothing
// sent". Steps assert these words and the report shows them.
func Verdict(t Topic) string {
	switch {
	case t.Sent == 0:
		return "nothing sent"
	case t.Delivered == 0:
		return "not delivered"
	case t.Lost > 0:
		return "partially delivered"
	case t.Duplicated > 0:
		return "delivered with duplicates"
	}
	return "delivered exactly once"
}

// MaxChartedTopics bounds the topics of one scenario drawn as charts: a
// scenario of the whole summit has thousands, and their four charts each
// would make a page no browser opens. Failed topics are drawn first, then
// the ones with most samples; every topic keeps its row in the table.
const MaxChartedTopics = 40

// chartedTopics are the indices of the topics to draw.
func chartedTopics(ts []Topic) map[int]bool {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	failed := func(t Topic) bool { return t.Lost > 0 || t.Duplicated > 0 }
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := ts[order[a]], ts[order[b]]
		if failed(ta) != failed(tb) {
			return failed(ta)
		}
		return ta.Sent > tb.Sent
	})
	out := map[int]bool{}
	for _, i := range order[:min(len(order), MaxChartedTopics)] {
		out[i] = true
	}
	return out
}

func renderHTML(dir string, r *Results) ([]byte, error) {
	pg := page{Results: r, Verdict: "FAIL", Duration: r.Finished.Sub(r.Started).Round(time.Millisecond).String()}
	if r.Passed {
		pg.Verdict = "PASS"
	}
	for _, f := range []string{"results.json", "junit.xml", "cucumber.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			pg.Links = append(pg.Links, f)
		}
	}
	for i, sc := range r.Scenarios {
		ps := pageScenario{Scenario: sc, Anchor: fmt.Sprintf("s%d", i+1)}
		if sc.Status == "passed" {
			pg.NPassed++
		} else {
			pg.NFailed++
		}
		charted := chartedTopics(sc.Topics)
		for j, t := range sc.Topics {
			pt := pageTopic{Topic: t, Anchor: fmt.Sprintf("s%d-t%d", i+1, j+1), Verdict: Verdict(t)}
			pt.Failed = t.Lost > 0 || t.Duplicated > 0
			if !charted[j] {
				ps.Topics = append(ps.Topics, pt)
				continue
			}
			tc, err := timeChart(t)
			if err != nil {
				return nil, err
			}
			cdf, err := cdfChart(t)
			if err != nil {
				return nil, err
			}
			hist, err := histChart(t)
			if err != nil {
				return nil, err
			}
			rate, err := throughputChart(t)
			if err != nil {
				return nil, err
			}
			pt.Time, pt.CDF = template.HTML(tc), template.HTML(cdf)
			pt.Hist, pt.Rate = template.HTML(hist), template.HTML(rate)
			if len(t.Missing) > 0 {
				parts := make([]string, len(t.Missing))
				for k, m := range t.Missing {
					parts[k] = fmt.Sprint(m)
				}
				pt.Missing = strings.Join(parts, ", ")
				if t.Lost > len(t.Missing) {
					pt.Missing += fmt.Sprintf(" … (%d more not listed)", t.Lost-len(t.Missing))
				}
			}
			ps.Topics = append(ps.Topics, pt)
		}
		pg.Scenarios = append(pg.Scenarios, ps)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, pg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"ms":  func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"div": func(a, b float64) float64 { return a / b },
	"dur": func(d time.Duration) string {
		return d.Round(time.Millisecond).String()
	},
	"ts": func(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>teststand {{.Verdict}} — {{.Stand}}</title>
<style>
` + Style + `</style>
</head>
<body>
<div class="banner {{.Verdict}}">
  <div class="verdict">{{.Verdict}}</div>
  <dl>
    <dt>stand</dt><dd>{{.Stand}}</dd>
    <dt>backend</dt><dd>{{.Backend}}</dd>
    <dt>run</dt><dd>{{.Run}}</dd>
    <dt>started</dt><dd>{{ts .Started}}</dd>
    <dt>duration</dt><dd>{{.Duration}}</dd>
    <dt>scenarios</dt><dd>{{.NPassed}} passed, {{.NFailed}} failed</dd>
  </dl>
  <dl>{{range $k, $v := .Versions}}<dt>{{$k}}</dt><dd>{{$v}}</dd>{{end}}</dl>
</div>
{{if .Links}}<p>Also: {{range .Links}}<a href="{{.}}">{{.}}</a> {{end}}</p>{{end}}

<h2>Scenarios</h2>
<table>
<tr><th>feature</th><th>scenario</th><th>verdict</th><th class="num">duration</th><th>failing step</th></tr>
{{range .Scenarios}}<tr{{if ne .Status "passed"}} class="bad"{{end}}>
<td>{{.Feature}}</td><td><a href="#{{.Anchor}}">{{.Name}}</a></td><td class="{{.Status}}">{{.Status}}</td><td class="num">{{dur .Duration}}</td>
<td>{{if .FailedStep}}{{.FailedStep}}<pre class="err">{{.Error}}</pre>{{else if .Error}}<pre class="err">{{.Error}}</pre>{{end}}</td></tr>
{{end}}</table>

{{range .Scenarios}}
<h2 id="{{.Anchor}}">{{.Name}} <span class="{{.Status}}">{{.Status}}</span></h2>
<p class="notes">{{.Feature}}{{if .Stand}} — on stand {{.Stand}}{{end}}</p>
{{if .Error}}<pre class="err">{{.Error}}</pre>{{end}}
{{if .Faults}}<table>
<tr><th>network fault</th><th>on</th><th class="num">lasted s</th><th class="num">catch-up s</th><th class="num">held</th><th class="num">duplicated</th></tr>
{{range .Faults}}<tr><td>{{.Fault}}</td><td>{{.Target}}</td><td class="num">{{if .Healed.IsZero}}—{{else}}{{printf "%.1f" (.Healed.Sub .Set).Seconds}}{{end}}</td>{{if .Measured}}<td class="num">{{printf "%.1f" (div .CatchUpMS 1000)}}</td><td class="num">{{.Held}}</td><td class="num">{{.Duplicated}}</td>{{else}}<td class="num" colspan="3">not measured</td>{{end}}</tr>
{{end}}</table>{{end}}
{{range .Topics}}
<h3 id="{{.Anchor}}">{{.Topic.Label}}: <span class="{{if .Failed}}failed{{else}}passed{{end}}">{{.Verdict}}</span></h3>
<table>
<tr><th class="num">sent</th><th class="num">delivered</th><th class="num">lost</th><th class="num">duplicated</th><th class="num">reordered</th></tr>
<tr{{if .Failed}} class="bad"{{end}}><td class="num">{{.Sent}}</td><td class="num">{{.Delivered}}</td><td class="num">{{.Lost}}</td><td class="num">{{.Duplicated}}</td><td class="num">{{.Reordered}}</td></tr>
</table>
{{if .Missing}}<details{{if lt (len .Topic.Missing) 20}} open{{end}}><summary>missing seqNums ({{.Lost}})</summary><p>{{.Missing}}</p></details>{{end}}
<table>
<tr><th>hop (from private_sndStamp)</th><th class="num">samples</th><th class="num">p50 ms</th><th class="num">p90 ms</th><th class="num">p99 ms</th><th class="num">p99.9 ms</th><th class="num">max ms</th><th class="num">mean ms</th></tr>
{{range .Hops}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td>{{if .Count}}<td class="num">{{ms .P50}}</td><td class="num">{{ms .P90}}</td><td class="num">{{ms .P99}}</td><td class="num">{{ms .P999}}</td><td class="num">{{ms .Max}}</td><td class="num">{{ms .Mean}}</td>{{else}}<td class="num" colspan="6">no sample seen here</td>{{end}}</tr>
{{end}}</table>
<div class="charts">{{.Time}}{{.CDF}}{{.Hist}}{{.Rate}}</div>
{{end}}
{{end}}

{{if .Notes}}<h2>Notes</h2><ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))

// Style is the reports' CSS, shared by every page the project writes
// (the run report, the coverage report), so they read alike.
const Style = `body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }
.banner { padding: 1em 1.5em; border-radius: 6px; color: #fff; display: flex; gap: 2em; align-items: center; flex-wrap: wrap; }
.banner.PASS { background: #2e7d32; } .banner.FAIL { background: #c62828; }
.banner .verdict { font-size: 2.4em; font-weight: 700; }
.banner dl { display: grid; grid-template-columns: auto auto; gap: 0.1em 1em; margin: 0; }
.banner dt { opacity: 0.8; } .banner dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #2e7d32; font-weight: 600; } .failed, .undefined { color: #c62828; font-weight: 600; } .skipped { color: #777; }
tr.bad td { background: #fdecea; }
pre.err { white-space: pre-wrap; background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em; margin: 0.3em 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } .charts svg { max-width: 100%; height: auto; border: 1px solid #eee; }
.notes { color: #555; font-size: 0.9em; } h2 { margin-top: 1.6em; } h3 { margin-bottom: 0.2em; }
`
