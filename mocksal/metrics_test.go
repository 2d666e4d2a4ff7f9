package mocksal

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsEndpoint(t *testing.T) {
	m := newMetrics()
	addr, stop, err := m.serve("127.0.0.1:0", slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for range 3 {
		m.wrote(Write{CSC: "ATDome", Topic: "position"})
	}
	m.wrote(Write{CSC: "MTM1M3", Topic: "forceActuatorData"})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`mocksal_samples_written_total{csc="ATDome",topic="position"} 3`,
		`mocksal_samples_written_total{csc="MTM1M3",topic="forceActuatorData"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
