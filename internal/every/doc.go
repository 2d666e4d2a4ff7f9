// Package every runs a function on an interval until a context ends: the
// periodic loops of the components (discovery, config sync, status lines,
// polling) share it so each has one owner and one exit.
package every
