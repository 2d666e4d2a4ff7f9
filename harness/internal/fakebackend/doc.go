// Package fakebackend is a backend of the harness's tests, registered as
// "fake" by importing the package: the embedded backend underneath,
// counting what the harness asks of it. It shows what adding a backend
// takes: a package of its own and one backend.Register call.
package fakebackend
