package main

import (
	"path/filepath"
	"testing"
)

// TestContribDockerConfigLoads: the container image's config has only
// known keys and passes the checks (public = true beside 0.0.0.0).
func TestContribDockerConfigLoads(t *testing.T) {
	hermeticConfigEnv(t)
	t.Setenv(envHTTPListen, "")
	cfg, err := loadConfig(filepath.Join("..", "..", "contrib", "captionbot.docker.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "0.0.0.0:8080" || !cfg.HTTP.Public || cfg.Store.Path != "/data/captionbot.db" {
		t.Errorf("got %+v, store %q", cfg.HTTP, cfg.Store.Path)
	}
}
