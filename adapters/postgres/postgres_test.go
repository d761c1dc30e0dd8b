package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/captionbot/captionbot/adapters/postgres"
	"github.com/captionbot/captionbot/adapters/postgres/pgtest"
	"github.com/captionbot/captionbot/adapters/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string, o postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type contractStore struct{ *postgres.Store }

func (s contractStore) OpenJournal(name string, remember time.Duration, now func() time.Time) (storetest.Journal, error) {
	j, err := s.Journal(name)
	if err != nil {
		return nil, err
	}
	j.Remember, j.Now = remember, now
	return j, nil
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := open(t, pgtest.DSN(t), postgres.Options{})
		t.Cleanup(func() { s.Close() })
		return contractStore{s}
	})
}
