package restproxy

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/httpserve"
	"github.com/lsst-ts/teststand/internal/yamlx"
)

// ProcessConfig is what the restproxy command runs.
type ProcessConfig struct {
	Config
	// Listen is the HTTP address (default 127.0.0.1:8082).
	Listen string
	// TokensFile is a YAML file {tokens: {TOKEN: [prefix, ...]}}.
	TokensFile string
	// Bound, if set, is told the bound address once serving.
	Bound func(addr string)
}

// LoadTokens reads a tokens file: each bearer token with the topic
// prefixes it may write. Errors name the file and line.
func LoadTokens(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &exit.BadInput{Err: fmt.Errorf("tokens: %w", err)}
	}
	var f struct {
		Tokens map[string][]string `yaml:"tokens"`
	}
	if err := yamlx.Decode(path, data, &f, nil); err != nil {
		return nil, &exit.BadInput{Err: err}
	}
	if len(f.Tokens) == 0 {
		return nil, &exit.BadInput{Err: fmt.Errorf("%s: no tokens listed (want tokens: {TOKEN: [lsst.dm, ...]})", path)}
	}
	for tok, prefixes := range f.Tokens {
		if len(prefixes) == 0 {
			return nil, &exit.BadInput{Err: fmt.Errorf("%s: a token has no topic prefixes", path)}
		}
		for _, p := range prefixes {
			if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "*?") {
				return nil, &exit.BadInput{Err: fmt.Errorf("%s: token %.4s…: prefix %q: want a topic name prefix such as lsst.dm", path, tok, p)}
			}
		}
	}
	return f.Tokens, nil
}

// RunProcess serves the proxy until ctx ends.
func RunProcess(ctx context.Context, pc ProcessConfig) error {
	if pc.TokensFile != "" {
		tokens, err := LoadTokens(pc.TokensFile)
		if err != nil {
			return err
		}
		pc.Tokens = tokens
	}
	if len(pc.Brokers) == 0 {
		return &exit.BadInput{Err: fmt.Errorf("--brokers is required")}
	}
	p, err := New(pc.Config)
	if err != nil {
		return err
	}
	defer p.Close()
	addr := pc.Listen
	if addr == "" {
		addr = "127.0.0.1:8082"
	}
	bound, stop, err := httpserve.Serve(addr, p.Handler(), pc.Logger)
	if err != nil {
		return err
	}
	defer stop()
	pc.Logger.Info("restproxy: serving", "addr", bound, "auth", len(pc.Tokens) > 0)
	if pc.Bound != nil {
		pc.Bound(bound)
	}
	<-ctx.Done()
	return nil
}
