// Package exit gives the project's commands one meaning for exit codes:
// 2 when the command refused its input (a bad file, flag or
// configuration, said on one line naming where), 1 for any other failure.
package exit
