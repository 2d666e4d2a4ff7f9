package producer

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/lsst-ts/teststand/internal/httpserve"
)

// adminHandler serves the producer's admin API:
//
//	GET  /components          → {"components": ["ATDome", "MTHexapod:1"]}
//	POST /components          ← {"components": ["MTM1M3TS"]}  → {"added": [...], "components": [...]}
//	GET  /healthz             → 200 once running
//
// POST hot-adds CSCs: the CSCs already served keep running untouched.
func (p *Producer) adminHandler() http.Handler {
	mux := http.NewServeMux()
	list := func(w http.ResponseWriter, added []string) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"added": added, "components": p.Components()})
	}
	mux.HandleFunc("GET /components", func(w http.ResponseWriter, r *http.Request) { list(w, nil) })
	mux.HandleFunc("POST /components", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Components []string `json:"components"`
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(body, &req); err != nil || len(req.Components) == 0 {
			http.Error(w, `want {"components": ["CSC", "CSC:index", ...]}`, http.StatusBadRequest)
			return
		}
		added, err := p.Add(r.Context(), req.Components...)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		list(w, added)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

// serveAdmin serves the admin API on addr until stop is called.
func (p *Producer) serveAdmin(addr string, log *slog.Logger) (bound string, stop func(), err error) {
	return httpserve.Serve(addr, p.adminHandler(), log)
}
