package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/postgres"
	"github.com/captionbot/captionbot/adapters/telegram"
	"github.com/captionbot/captionbot/bot"
)

// store is what serve and prefs use of the [store] database, bbolt or
// PostgreSQL.
type store interface {
	bot.Preferences
	// Journal returns a platform's update journal.
	Journal(name string) (telegram.Journal, error)
	// Err reports whether the store can be written now (readiness).
	Err() error
	Close() error
}

// pollLocker is a store shared by several processes: long polling takes
// its lock, so that a second poller refuses to start.
type pollLocker interface {
	LockPoller(ctx context.Context, name string) error
}

type boltStore struct{ *bolt.Store }

func (s boltStore) Journal(name string) (telegram.Journal, error) { return s.Store.Journal(name) }

type postgresStore struct{ *postgres.Store }

func (s postgresStore) Journal(name string) (telegram.Journal, error) { return s.Store.Journal(name) }

// openStore opens the [store] database, with a clear message when another
// captionbot holds it (bolt) or it cannot be reached (postgres).
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (store, error) {
	sc := cfg.Store
	if sc.Driver == "postgres" {
		ctx, cancel := context.WithTimeout(ctx, 4*sc.QueryTimeout.Duration)
		defer cancel()
		st, err := postgres.Open(ctx, sc.DSN, postgres.Options{QueryTimeout: sc.QueryTimeout.Duration, Lease: sc.Lease.Duration, Log: log})
		if err != nil {
			return nil, fmt.Errorf("[store] postgres: %w", err)
		}
		return postgresStore{st}, nil
	}
	st, err := bolt.Open(sc.Path, time.Second)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		return nil, fmt.Errorf("%s is in use by another captionbot process; stop it first (or use another [store] path, "+
			"or [store] driver = \"postgres\" for several processes)", sc.Path)
	case errors.Is(err, bolt.ErrCorrupt):
		return nil, fmt.Errorf("%w\n"+
			"The settings store is damaged. Move %s aside (captionbot then starts with an empty store), "+
			"and restore the settings from a backup made with 'captionbot prefs export': "+
			"'captionbot prefs import --config FILE BACKUP.json'", err, sc.Path)
	case err != nil:
		return nil, err
	}
	return boltStore{st}, nil
}
