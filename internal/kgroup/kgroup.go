package kgroup

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// AtLeastOnce returns the options of such a group member: commit marked
// offsets every interval, and on revocation or close give the commit up to
// 3 s (what is not committed is read again by the next owner). Callers
// mark with Client.MarkCommitRecords after the downstream ack.
func AtLeastOnce(interval time.Duration, log *slog.Logger) []kgo.Opt {
	return []kgo.Opt{
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(interval),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			if err := cl.CommitMarkedOffsets(cctx); err != nil {
				log.Warn("commit on revoke failed; those records will be read again", "err", err)
			}
		}),
	}
}
