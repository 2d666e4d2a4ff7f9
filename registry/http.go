package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const contentType = "application/vnd.schemaregistry.v1+json"

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { reply(w, map[string]any{}) })
	mux.HandleFunc("GET /subjects", s.listSubjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", s.listVersions)
	mux.HandleFunc("POST /subjects/{subject}/versions", s.registerHandler)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", s.getVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", s.getVersion)
	mux.HandleFunc("POST /subjects/{subject}", s.lookup)
	mux.HandleFunc("GET /schemas/ids/{id}", s.getByID)
	mux.HandleFunc("GET /schemas/ids/{id}/schema", s.getByID)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", s.idVersions)
	mux.HandleFunc("GET /schemas/types", func(w http.ResponseWriter, r *http.Request) { reply(w, []string{"AVRO"}) })
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{"compatibilityLevel": "BACKWARD"})
	})
	mux.HandleFunc("GET /mode", func(w http.ResponseWriter, r *http.Request) {
		mode := "READWRITE"
		if s.cfg.ReadOnly {
			mode = "READONLY"
		}
		reply(w, map[string]string{"mode": mode})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			fail(w, &apiError{http.StatusNotFound, 404, "HTTP 404 Not Found"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, 50001, err.Error()}
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": ae.code, "message": ae.msg})
}

func subjectNotFound(subject string) error {
	return &apiError{http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", subject)}
}

func (s *Server) listSubjects(w http.ResponseWriter, r *http.Request) {
	s.st.mu.RLock()
	out := []string{}
	for subj := range s.st.subjects {
		if len(s.st.live(subj)) > 0 {
			out = append(out, subj)
		}
	}
	s.st.mu.RUnlock()
	sort.Strings(out)
	reply(w, out)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	s.st.mu.RLock()
	vs := s.st.live(subject)
	s.st.mu.RUnlock()
	if len(vs) == 0 {
		fail(w, subjectNotFound(subject))
		return
	}
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.version
	}
	reply(w, out)
}

// subjectVersion is Confluent's answer for one version of a subject.
type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema  string `json:"schema"`
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	subject, vstr := r.PathValue("subject"), r.PathValue("version")
	s.st.mu.RLock()
	vs := s.st.live(subject)
	var found *version
	if vstr == "latest" || vstr == "-1" {
		if len(vs) > 0 {
			found = &vs[len(vs)-1]
		}
	} else {
		n, err := strconv.Atoi(vstr)
		if err != nil || n <= 0 {
			s.st.mu.RUnlock()
			fail(w, &apiError{http.StatusUnprocessableEntity, 42202, "The specified version '" + vstr + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""})
			return
		}
		for i := range vs {
			if vs[i].version == n {
				found = &vs[i]
			}
		}
	}
	var schema string
	if found != nil {
		schema = s.st.schemas[found.id]
	}
	s.st.mu.RUnlock()
	switch {
	case len(vs) == 0:
		fail(w, subjectNotFound(subject))
	case found == nil:
		fail(w, &apiError{http.StatusNotFound, 40402, fmt.Sprintf("Version %s not found.", vstr)})
	case strings.HasSuffix(r.URL.Path, "/schema"):
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, schema)
	default:
		reply(w, subjectVersion{Subject: subject, Version: found.version, ID: found.id, Schema: schema})
	}
}

// schemaRequest is the body of register and lookup.
type schemaRequest struct {
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType"`
}

func readSchema(r *http.Request) (schemaRequest, error) {
	var req schemaRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return req, &apiError{http.StatusBadRequest, 400, err.Error()}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, &apiError{http.StatusBadRequest, 400, "Unrecognized request body: " + err.Error()}
	}
	if req.SchemaType != "" && req.SchemaType != "AVRO" {
		return req, &apiError{http.StatusUnprocessableEntity, 42201, "Invalid schema type " + req.SchemaType + ": this registry serves AVRO"}
	}
	if strings.TrimSpace(req.Schema) == "" {
		return req, &apiError{http.StatusUnprocessableEntity, 42201, "Empty schema"}
	}
	return req, nil
}

func (s *Server) registerHandler(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ReadOnly {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42205, "Subject " + r.PathValue("subject") + " is in read-only mode"})
		return
	}
	req, err := readSchema(r)
	if err != nil {
		fail(w, err)
		return
	}
	id, _, err := s.register(r.Context(), r.PathValue("subject"), req.Schema)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, map[string]int{"id": id})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, err := readSchema(r)
	if err != nil {
		fail(w, err)
		return
	}
	canon, err := canonicalForm(req.Schema)
	if err != nil {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42201, "Invalid schema: " + err.Error()})
		return
	}
	s.st.mu.RLock()
	vs := s.st.live(subject)
	id, known := s.st.canonical[canon]
	var found *version
	for i := range vs {
		if known && vs[i].id == id {
			found = &vs[i]
		}
	}
	schema := s.st.schemas[id]
	s.st.mu.RUnlock()
	switch {
	case len(vs) == 0:
		fail(w, subjectNotFound(subject))
	case found == nil:
		fail(w, &apiError{http.StatusNotFound, 40403, "Schema not found"})
	default:
		reply(w, subjectVersion{Subject: subject, Version: found.version, ID: found.id, Schema: schema})
	}
}

func (s *Server) getByID(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.st.mu.RLock()
	schema, ok := s.st.schemas[id]
	s.st.mu.RUnlock()
	if err != nil || !ok {
		fail(w, &apiError{http.StatusNotFound, 40403, fmt.Sprintf("Schema %s not found", r.PathValue("id"))})
		return
	}
	if strings.HasSuffix(r.URL.Path, "/schema") {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, schema)
		return
	}
	reply(w, map[string]string{"schema": schema})
}

func (s *Server) idVersions(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	type sv struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	var out []sv
	s.st.mu.RLock()
	_, ok := s.st.schemas[id]
	for subj := range s.st.subjects {
		for _, v := range s.st.live(subj) {
			if v.id == id {
				out = append(out, sv{subj, v.version})
			}
		}
	}
	s.st.mu.RUnlock()
	if err != nil || !ok {
		fail(w, &apiError{http.StatusNotFound, 40403, fmt.Sprintf("Schema %s not found", r.PathValue("id"))})
		return
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Version < out[j].Version
	})
	reply(w, out)
}
