package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/storetest"
)

type contractStore struct{ *bolt.Store }

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
		s := open(t, filepath.Join(t.TempDir(), "c.db"))
		t.Cleanup(func() { s.Close() })
		return contractStore{s}
	})
}
