// Package httpserve runs the small HTTP endpoints of the project's
// processes (Prometheus metrics, admin APIs) on real sockets. It owns each
// server's goroutine and stops it; it holds no endpoint logic.
package httpserve
