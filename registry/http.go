package registry

import (
	"cmp"
	"crypto/subtle"
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
	mux.HandleFunc("DELETE /subjects/{subject}", s.deleteSubject)
	mux.HandleFunc("DELETE /subjects/{subject}/versions/{version}", s.deleteVersion)
	mux.HandleFunc("GET /config", s.getConfig)
	mux.HandleFunc("PUT /config", s.putConfig)
	mux.HandleFunc("GET /config/{subject}", s.getConfig)
	mux.HandleFunc("PUT /config/{subject}", s.putConfig)
	mux.HandleFunc("DELETE /config/{subject}", s.deleteConfig)
	mux.HandleFunc("GET /mode", s.getMode)
	mux.HandleFunc("PUT /mode", s.putMode)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", s.checkCompatibility)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", s.checkCompatibility)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			// As Confluent's registry with basic auth: 401 and a challenge.
			w.Header().Set("WWW-Authenticate", `Basic realm="schema-registry"`)
			fail(w, &apiError{http.StatusUnauthorized, 401, "Unauthorized"})
			return
		}
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
	deleted := r.URL.Query().Get("deleted") == "true"
	s.st.mu.RLock()
	out := []string{}
	for subj, vs := range s.st.subjects {
		if len(s.st.live(subj)) > 0 || (deleted && len(vs) > 0) {
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
	if err := s.writable(); err != nil {
		fail(w, err)
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

// findVersion resolves "latest", "-1" or a number among vs.
func findVersion(vs []version, v string) (*version, error) {
	if v == "latest" || v == "-1" {
		if len(vs) == 0 {
			return nil, nil
		}
		return &vs[len(vs)-1], nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return nil, &apiError{http.StatusUnprocessableEntity, 42202, "The specified version '" + v + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}
	}
	for i := range vs {
		if vs[i].version == n {
			return &vs[i], nil
		}
	}
	return nil, nil
}

// deleteSubject soft-deletes every version of a subject, or with
// ?permanent=true removes versions that were soft-deleted first.
func (s *Server) deleteSubject(w http.ResponseWriter, r *http.Request) {
	if err := s.writable(); err != nil {
		fail(w, err)
		return
	}
	subject := r.PathValue("subject")
	permanent := r.URL.Query().Get("permanent") == "true"
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.catchUp(r.Context()); err != nil {
		fail(w, err)
		return
	}
	s.st.mu.RLock()
	all := append([]version(nil), s.st.subjects[subject]...)
	live := s.st.live(subject)
	schemas := map[int]string{}
	for _, v := range all {
		schemas[v.id] = s.st.schemas[v.id]
	}
	s.st.mu.RUnlock()
	if len(all) == 0 {
		fail(w, subjectNotFound(subject))
		return
	}
	var done []int
	if permanent {
		if len(live) > 0 {
			fail(w, &apiError{http.StatusNotFound, 40405, fmt.Sprintf("Subject '%s' was not deleted first before being permanently deleted", subject)})
			return
		}
		for _, v := range all {
			if err := s.store(r.Context(), schemaKey{KeyType: "SCHEMA", Subject: subject, Version: v.version, Magic: 1}, nil); err != nil {
				fail(w, err)
				return
			}
			done = append(done, v.version)
		}
		reply(w, done)
		return
	}
	if len(live) == 0 {
		fail(w, &apiError{http.StatusNotFound, 40404, fmt.Sprintf("Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)})
		return
	}
	// As Confluent: a DELETE_SUBJECT record up to the latest version, and
	// each version marked deleted.
	if err := s.store(r.Context(), configKey{KeyType: "DELETE_SUBJECT", Subject: &subject},
		map[string]any{"subject": subject, "version": live[len(live)-1].version}); err != nil {
		fail(w, err)
		return
	}
	for _, v := range live {
		if err := s.store(r.Context(), schemaKey{KeyType: "SCHEMA", Subject: subject, Version: v.version, Magic: 1},
			schemaValue{Subject: subject, Version: v.version, ID: v.id, Schema: schemas[v.id], Deleted: true}); err != nil {
			fail(w, err)
			return
		}
		done = append(done, v.version)
	}
	reply(w, done)
}

// deleteVersion soft-deletes one version, or with ?permanent=true removes
// a version that was soft-deleted first.
func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	if err := s.writable(); err != nil {
		fail(w, err)
		return
	}
	subject, vstr := r.PathValue("subject"), r.PathValue("version")
	permanent := r.URL.Query().Get("permanent") == "true"
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.catchUp(r.Context()); err != nil {
		fail(w, err)
		return
	}
	s.st.mu.RLock()
	all := append([]version(nil), s.st.subjects[subject]...)
	s.st.mu.RUnlock()
	if len(all) == 0 {
		fail(w, subjectNotFound(subject))
		return
	}
	pool := all
	if !permanent {
		pool = nil
		for _, v := range all {
			if !v.deleted {
				pool = append(pool, v)
			}
		}
	}
	v, err := findVersion(pool, vstr)
	if err != nil {
		fail(w, err)
		return
	}
	if v == nil {
		fail(w, &apiError{http.StatusNotFound, 40402, fmt.Sprintf("Version %s not found.", vstr)})
		return
	}
	s.st.mu.RLock()
	schema := s.st.schemas[v.id]
	s.st.mu.RUnlock()
	key := schemaKey{KeyType: "SCHEMA", Subject: subject, Version: v.version, Magic: 1}
	if permanent {
		if !v.deleted {
			fail(w, &apiError{http.StatusNotFound, 40407, fmt.Sprintf("Subject '%s' Version %d was not deleted first before being permanently deleted", subject, v.version)})
			return
		}
		err = s.store(r.Context(), key, nil)
	} else {
		err = s.store(r.Context(), key, schemaValue{Subject: subject, Version: v.version, ID: v.id, Schema: schema, Deleted: true})
	}
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, v.version)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	s.st.mu.RLock()
	level, set := s.st.subjCompat[subject]
	global := s.st.compatibility("")
	s.st.mu.RUnlock()
	if subject == "" {
		reply(w, map[string]string{"compatibilityLevel": global})
		return
	}
	if !set {
		if r.URL.Query().Get("defaultToGlobal") == "true" {
			reply(w, map[string]string{"compatibilityLevel": global})
			return
		}
		fail(w, &apiError{http.StatusNotFound, 40408, fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", subject)})
		return
	}
	reply(w, map[string]string{"compatibilityLevel": level})
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	if err := s.writable(); err != nil {
		fail(w, err)
		return
	}
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil || !levels[strings.ToUpper(req.Compatibility)] {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42203, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"})
		return
	}
	level := strings.ToUpper(req.Compatibility)
	var subj *string
	if sub := r.PathValue("subject"); sub != "" {
		subj = &sub
	}
	if err := s.store(r.Context(), configKey{KeyType: "CONFIG", Subject: subj}, configValue{CompatibilityLevel: level}); err != nil {
		fail(w, err)
		return
	}
	reply(w, map[string]string{"compatibility": level})
}

func (s *Server) deleteConfig(w http.ResponseWriter, r *http.Request) {
	if err := s.writable(); err != nil {
		fail(w, err)
		return
	}
	subject := r.PathValue("subject")
	if err := s.catchUp(r.Context()); err != nil {
		fail(w, err)
		return
	}
	s.st.mu.RLock()
	level, set := s.st.subjCompat[subject]
	s.st.mu.RUnlock()
	if !set {
		fail(w, subjectNotFound(subject))
		return
	}
	if err := s.store(r.Context(), configKey{KeyType: "CONFIG", Subject: &subject}, nil); err != nil {
		fail(w, err)
		return
	}
	reply(w, map[string]string{"compatibilityLevel": level})
}

func (s *Server) getMode(w http.ResponseWriter, r *http.Request) {
	s.st.mu.RLock()
	mode := s.st.mode
	s.st.mu.RUnlock()
	if s.cfg.ReadOnly {
		mode = "READONLY"
	}
	reply(w, map[string]string{"mode": cmp.Or(mode, "READWRITE")})
}

func (s *Server) putMode(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ReadOnly {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42205, "This registry serves a replicated topic and is read-only"})
		return
	}
	var req struct {
		Mode string `json:"mode"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	mode := ""
	if json.Unmarshal(body, &req) == nil {
		mode = strings.ToUpper(req.Mode)
	}
	if mode != "READWRITE" && mode != "READONLY" && mode != "IMPORT" {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42204, "Invalid mode. Valid values are READWRITE, READONLY and IMPORT"})
		return
	}
	if err := s.store(r.Context(), configKey{KeyType: "MODE"}, modeValue{Mode: mode}); err != nil {
		fail(w, err)
		return
	}
	reply(w, map[string]string{"mode": mode})
}

// checkCompatibility answers whether a schema could be registered as the
// next version of a subject (against one version, or every one for a
// transitive level).
func (s *Server) checkCompatibility(w http.ResponseWriter, r *http.Request) {
	subject, vstr := r.PathValue("subject"), cmp.Or(r.PathValue("version"), "latest")
	req, err := readSchema(r)
	if err != nil {
		fail(w, err)
		return
	}
	s.st.mu.RLock()
	live := s.st.live(subject)
	level := s.st.compatibility(subject)
	var earlier []string
	v, verr := findVersion(live, vstr)
	if v != nil {
		if strings.HasSuffix(level, "_TRANSITIVE") {
			for _, x := range live {
				earlier = append(earlier, s.st.schemas[x.id])
			}
		} else {
			earlier = []string{s.st.schemas[v.id]}
		}
	}
	s.st.mu.RUnlock()
	switch {
	case len(live) == 0:
		fail(w, subjectNotFound(subject))
		return
	case verr != nil:
		fail(w, verr)
		return
	case v == nil:
		fail(w, &apiError{http.StatusNotFound, 40402, fmt.Sprintf("Version %s not found.", vstr)})
		return
	}
	reasons, err := checkCompatible(level, req.Schema, earlier)
	if err != nil {
		fail(w, &apiError{http.StatusUnprocessableEntity, 42201, "Invalid schema: " + err.Error()})
		return
	}
	out := map[string]any{"is_compatible": len(reasons) == 0}
	if r.URL.Query().Get("verbose") == "true" {
		out["messages"] = append([]string{}, reasons...)
	}
	reply(w, out)
}

// authorized reports whether r may be served: always without users, else
// with the basic auth of one of them (compared in constant time).
func (s *Server) authorized(r *http.Request) bool {
	if len(s.cfg.Users) == 0 {
		return true
	}
	user, pass, ok := r.BasicAuth()
	want, known := s.cfg.Users[user]
	return ok && known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}
