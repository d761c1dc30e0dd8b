package main

import (
	"fmt"
	"os"
	"time"

	"github.com/captionbot/captionbot/adapters/postgres"
)

// storeConfig is the [store] section.
type storeConfig struct {
	// Driver is "bolt" (a file, one captionbot at a time) or "postgres"
	// (shared by several captionbot processes).
	Driver string `toml:"driver"`
	// Path is the bbolt file with settings and the update journal; relative
	// paths are relative to the config file.
	Path string `toml:"path"`
	// DSN names the PostgreSQL database (driver "postgres");
	// $CAPTIONBOT_STORE_DSN wins.
	DSN string `toml:"dsn"`
	// QueryTimeout bounds every PostgreSQL query.
	QueryTimeout duration `toml:"query_timeout"`
	// Lease is how long a replica's unfinished updates stay its own after
	// its last heartbeat; then another replica answers them.
	Lease duration `toml:"lease"`
}

// envStoreDSN wins over [store] dsn, so the password can stay out of the file.
const envStoreDSN = "CAPTIONBOT_STORE_DSN"

func (sc *storeConfig) defaults() {
	*sc = storeConfig{Driver: "bolt", Path: "captionbot.db",
		QueryTimeout: duration{postgres.DefaultQueryTimeout}, Lease: duration{postgres.DefaultLease}}
}

func (sc *storeConfig) check(dir string) error {
	if v := os.Getenv(envStoreDSN); v != "" {
		sc.DSN = v
	}
	switch sc.Driver {
	case "bolt":
		if sc.Path == "" {
			return fmt.Errorf("store.path must be set")
		}
		sc.Path = resolvePath(dir, sc.Path)
	case "postgres":
		if sc.DSN == "" {
			return fmt.Errorf("store.dsn (or $%s) must be set with driver \"postgres\"", envStoreDSN)
		}
		if sc.QueryTimeout.Duration < 100*time.Millisecond || sc.QueryTimeout.Duration > time.Minute {
			return fmt.Errorf("store.query_timeout is %s; use 100ms to 1m", sc.QueryTimeout.Duration)
		}
		if sc.Lease.Duration < time.Second || sc.Lease.Duration > time.Hour {
			return fmt.Errorf("store.lease is %s; use 1s to 1h", sc.Lease.Duration)
		}
	default:
		return fmt.Errorf("store.driver is %q; use \"bolt\" or \"postgres\"", sc.Driver)
	}
	return nil
}
