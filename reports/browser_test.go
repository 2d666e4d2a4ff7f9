package reports

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's chromium, installing it with apt-get when it is
// missing and this is root (a new machine); otherwise the test fails
// saying how to get it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("chromium is needed to check the report in a browser: apt-get install chromium")
	}
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "chromium"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var headless = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--allow-file-access-from-files", "--enable-logging=stderr", "--v=0"}

// TestReportInChromium renders a report, opens it in headless Chromium,
// takes a screenshot, checks the page logged no console error, and
// measures every chart as laid out: each has a non-zero size.
func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	if err := Write(dir, sampleResults()); err != nil {
		t.Fatal(err)
	}
	// A probe page loads the report in a frame and writes the laid-out
	// size of each <svg> into its own DOM, which --dump-dom prints.
	probe := `<!doctype html><html><body><iframe id="f" src="index.html" width="1280" height="6000"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, out = [];
  d.querySelectorAll("svg").forEach(function (s) { var r = s.getBoundingClientRect(); out.push(Math.round(r.width) + "x" + Math.round(r.height)); });
  document.body.setAttribute("data-svgs", out.join(","));
  document.body.setAttribute("data-title", d.title);
});
</script></body></html>`
	if err := os.WriteFile(filepath.Join(dir, "probe.html"), []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append([]string{"--user-data-dir=" + t.TempDir()}, headless...), args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	dom, logs := run("--virtual-time-budget=5000", "--dump-dom", "file://"+filepath.Join(dir, "probe.html"))
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "CONSOLE") && (strings.Contains(line, "ERROR") || strings.Contains(line, "Uncaught")) {
			t.Errorf("console error: %s", line)
		}
	}
	m := regexp.MustCompile(`data-svgs="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not measure the charts:\n%s\n%s", dom, logs)
	}
	sizes := strings.Split(m[1], ",")
	t.Logf("charts laid out: %s", m[1])
	// The passing scenario has one topic with data: 4 charts.
	if len(sizes) < 4 {
		t.Fatalf("%d charts laid out (%s), want at least 4", len(sizes), m[1])
	}
	for _, s := range sizes {
		w, h, _ := strings.Cut(s, "x")
		wi, _ := strconv.Atoi(w)
		hi, _ := strconv.Atoi(h)
		if wi < 100 || hi < 100 {
			t.Errorf("chart laid out at %s, want a visible size", s)
		}
	}
	if !strings.Contains(dom, `data-title="teststand FAIL`) {
		t.Errorf("the report's title is not the verdict: %s", regexp.MustCompile(`data-title="[^"]*"`).FindString(dom))
	}
	shot := filepath.Join(dir, "shot.png")
	run("--window-size=1280,2400", "--screenshot="+shot, "file://"+filepath.Join(dir, "index.html"))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot %v, want 1280x2400", b)
	}
}
