// Package cli holds the small helpers every command's main shares: list
// flags and the log handler. It never holds logic of a component.
package cli
