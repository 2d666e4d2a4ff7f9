package restproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The REST proxy's error codes: the HTTP status times 100 plus a subcode.
const (
	CodeUnauthorized       = 40101
	CodeForbidden          = 40301
	CodeTopicNotFound      = 40401
	CodePartitionNotFound  = 40402
	CodeClusterNotFound    = 40404
	CodeUnsupportedMedia   = 41501
	CodeKeySchemaMissing   = 42201
	CodeValueSchemaMissing = 42202
	CodeJSONAvroConversion = 42203
	CodeInvalidSchema      = 42205
	CodeBadRequest         = 40001
	CodeTopicExists        = 40002
	CodeSchemaRegistry     = 50001
	CodeKafka              = 50002
	CodeKafkaRetriable     = 50003
)

// Error is an error answered to the client: {"error_code", "message"},
// with the HTTP status error_code / 100.
type Error struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Status is the HTTP status of the error.
func (e *Error) Status() int { return e.Code / 100 }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeError(w http.ResponseWriter, contentType string, e *Error) {
	writeJSON(w, e.Status(), contentType, e)
}
