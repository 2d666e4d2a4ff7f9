package exit

import "errors"

// BadInput marks an error in what the user gave.
type BadInput struct{ Err error }

func (e *BadInput) Error() string { return e.Err.Error() }
func (e *BadInput) Unwrap() error { return e.Err }

// Code is the exit code for err: 0, 1, or 2 for bad input.
func Code(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(*BadInput)):
		return 2
	}
	return 1
}
