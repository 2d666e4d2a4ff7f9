package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
)

// binaryGrace is how long a component's binary has to stop on SIGTERM
// before it is killed.
const binaryGrace = 5 * time.Second

// binaryComponent is a component run as one of the project's binaries.
type binaryComponent struct {
	name string
	// kind names it in messages and in the stand ("producer", "sink",
	// "REST proxy").
	kind string
	// binary is the command (salkafka, efdsink, restproxy), run with args
	// and the environment plus env, as run says (Binary or Container).
	binary    string
	args, env []string
	run       RunMode
	// ready is ready once the binary is; it is told the binary's Alive,
	// so that a binary that dies ends the wait at once.
	ready wait.Watched
	// metricsURL and adminURL are the binary's endpoints, if any.
	metricsURL, adminURL string
}

// startBinary starts b's binary, waits until it is ready, stopping it
// when it is not, and registers it as a component of the stand: every
// component run as a binary or container starts here.
func (e *Env) startBinary(ctx context.Context, b binaryComponent) error {
	what := b.kind + " " + b.name
	pr, err := e.backend.Run(ctx, what, b.binary, b.args, b.env, b.run)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	b.ready.Watch(pr.Alive)
	if err := b.ready.WaitUntilReady(ctx); err != nil {
		pr.Stop(binaryGrace)
		return fmt.Errorf("%s: %w\n%s", what, err, pr.Tail(2000))
	}
	e.register(&component{
		name: b.name, kind: b.kind, proc: pr, done: pr.Done(),
		cancel:     func() { pr.Stop(binaryGrace) },
		metricsURL: b.metricsURL, adminURL: b.adminURL,
	})
	return nil
}
