package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/bot"
	"github.com/google/go-cmp/cmp"
)

func open(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSettingsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "prefs.db")
	s := open(t, path)
	zero := 0
	user := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"}
	chat := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeChat, ID: "-100123"}
	want := map[bot.PrefKey]bot.Settings{
		user: {Network: "linkedin", Tone: "professional", Language: "de", Hashtags: &zero},
		chat: {Network: "x"},
	}
	for k, v := range want {
		if err := s.Set(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Get(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "7"}); err != nil || got != (bot.Settings{}) {
		t.Errorf("unknown user: %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	defer s.Close()
	got := map[bot.PrefKey]bot.Settings{}
	if err := s.Each(ctx, func(k bot.PrefKey, v bot.Settings) error { got[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
	// Zero settings delete the record.
	if err := s.Set(ctx, chat, bot.Settings{}); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = s.Each(ctx, func(bot.PrefKey, bot.Settings) error { n++; return nil })
	if n != 1 {
		t.Errorf("records after delete = %d, want 1", n)
	}
}

func TestSecondInstanceFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prefs.db")
	s := open(t, path)
	defer s.Close()
	start := time.Now()
	_, err := bolt.Open(path, 100*time.Millisecond)
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second open took %s", d)
	}
}

func TestBadKeysAndRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "prefs.db")
	s := open(t, path)
	for _, k := range []bot.PrefKey{{}, {Platform: "t", Scope: "x", ID: "1"}, {Platform: "a:b", Scope: bot.ScopeUser, ID: "1"}} {
		if err := s.Set(ctx, k, bot.Settings{Tone: "fun"}); !errors.Is(err, bot.ErrBadPrefKey) {
			t.Errorf("Set(%v) = %v, want ErrBadPrefKey", k, err)
		}
	}
	s.Close()

	// A record from a future version is reported, not misread.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("user_settings")).Put([]byte("t:1"), []byte(`{"v":9,"settings":{}}`))
	})
	db.Close()
	s = open(t, path)
	defer s.Close()
	if _, err := s.Get(ctx, bot.PrefKey{Platform: "t", Scope: bot.ScopeUser, ID: "1"}); !errors.Is(err, bolt.ErrBadRecord) {
		t.Errorf("Get future record: %v, want ErrBadRecord", err)
	}
}

func TestExportImportThroughStore(t *testing.T) {
	ctx := context.Background()
	src := open(t, filepath.Join(t.TempDir(), "a.db"))
	defer src.Close()
	_ = src.Set(ctx, bot.PrefKey{Platform: "discord", Scope: bot.ScopeChat, ID: "9"}, bot.Settings{Network: "tiktok"})
	var buf bytes.Buffer
	if _, err := bot.ExportPreferences(ctx, src, &buf); err != nil {
		t.Fatal(err)
	}
	dst := open(t, filepath.Join(t.TempDir(), "b.db"))
	defer dst.Close()
	if n, err := bot.ImportPreferences(ctx, dst, &buf); err != nil || n != 1 {
		t.Fatalf("import: %d %v", n, err)
	}
	got, _ := dst.Get(ctx, bot.PrefKey{Platform: "discord", Scope: bot.ScopeChat, ID: "9"})
	if got.Network != "tiktok" {
		t.Errorf("imported %+v", got)
	}
}

func TestJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	j, err := s.Journal("telegram")
	if err != nil {
		t.Fatal(err)
	}
	if off, err := j.Offset(ctx); err != nil || off != 0 {
		t.Fatalf("fresh offset %d %v", off, err)
	}
	batch := map[int64][]byte{}
	for id := int64(100); id < 110; id++ {
		batch[id] = []byte(`{"update_id":` + string(rune('0'+id-100)) + `}`)
	}
	if err := j.Accept(ctx, batch, 110); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for id := int64(100); id < 108; id++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = j.Done(ctx, id) }()
	}
	wg.Wait()
	s.Close()

	s = open(t, path)
	defer s.Close()
	j, _ = s.Journal("telegram")
	pending, err := j.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int64][]byte{108: batch[108], 109: batch[109]}, pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if off, _ := j.Offset(ctx); off != 110 {
		t.Errorf("offset %d, want 110", off)
	}
	other, _ := s.Journal("discord")
	if p, _ := other.Pending(ctx); len(p) != 0 {
		t.Errorf("journals share entries: %v", p)
	}
}

// Claim takes an update in once: not while it is pending, not while its ID
// is remembered as handled; handled IDs are forgotten after Remember.
func TestJournalClaimRemembersHandledUpdates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	now := time.Unix(1_700_000_000, 0)
	j, err := s.Journal("telegram")
	if err != nil {
		t.Fatal(err)
	}
	j.Now = func() time.Time { return now }
	j.Remember = time.Hour
	claim := func(id int64) bool {
		t.Helper()
		fresh, err := j.Claim(ctx, id, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !claim(1) || claim(1) {
		t.Fatal("first Claim must be fresh, the second not")
	}
	if err := j.Done(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if claim(1) {
		t.Error("a handled update was claimed again")
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	j, _ = s.Journal("telegram")
	j.Now = func() time.Time { return now }
	j.Remember = time.Hour
	if fresh, _ := j.Claim(ctx, 1, nil); fresh {
		t.Error("a handled update was claimed again after reopening")
	}
	if p, _ := j.Pending(ctx); len(p) != 0 {
		t.Errorf("pending %v", p)
	}
	now = now.Add(2 * time.Hour) // update 1 is forgotten at the next Done
	if !claimFresh(t, j, 2) {
		t.Fatal("claim 2")
	}
	if err := j.Done(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := j.Handled(ctx, 1); ok {
		t.Error("update 1 still remembered after Remember")
	}
	if ok, _ := j.Handled(ctx, 2); !ok {
		t.Error("update 2 forgotten")
	}
}

func claimFresh(t *testing.T, j *bolt.Journal, id int64) bool {
	t.Helper()
	fresh, err := j.Claim(context.Background(), id, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

// filledStore writes enough settings that the file has many pages, and
// closes it.
func filledStore(t *testing.T, path string) {
	t.Helper()
	s := open(t, path)
	ctx := context.Background()
	for i := range 300 {
		k := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: strconv.Itoa(i)}
		if err := s.Set(ctx, k, bot.Settings{Network: "linkedin", Tone: "witty", Language: "de"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Journal("telegram"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// A file with random bytes after its meta pages (from page 2, 3 or 4 to the
// end, or in that one page) is refused with ErrCorrupt, never
// a panic, whatever the bytes.
func TestOpenDamagedFile(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			filledStore(t, path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			page := os.Getpagesize()
			if len(data) < 4*page {
				t.Fatalf("file of %d bytes: too few pages", len(data))
			}
			rng := rand.New(rand.NewPCG(seed, 1))
			from, to := []int{2 * page, 3 * page, 4 * page}[seed%3], len(data)
			if seed%2 == 1 {
				to = from + page // one page only
			}
			for i := from; i < to; i++ {
				data[i] = byte(rng.Uint32())
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.OpenWith(path, bolt.Options{LockTimeout: 100 * time.Millisecond, CheckTimeout: 10 * time.Second})
			if err == nil {
				s.Close()
				t.Fatal("damaged file opened")
			}
			if !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("error %v, want ErrCorrupt", err)
			}
		})
	}
}

// A store whose file is deleted or replaced while open refuses writes (they
// would be lost) and says so in Err.
func TestStoreNoticesFileGone(t *testing.T) {
	ctx := context.Background()
	k := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"}
	for _, how := range []string{"deleted", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.db")
			s := open(t, path)
			defer s.Close()
			j, err := s.Journal("telegram")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Set(ctx, k, bot.Settings{Network: "x"}); err != nil || s.Err() != nil {
				t.Fatalf("healthy store: %v, %v", err, s.Err())
			}
			switch how {
			case "deleted":
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			case "replaced":
				if err := os.WriteFile(path+".new", []byte("other"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(path+".new", path); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Set(ctx, k, bot.Settings{Network: "linkedin"}); !errors.Is(err, bolt.ErrGone) {
				t.Errorf("Set after the file was %s: %v, want ErrGone", how, err)
			}
			if err := j.Accept(ctx, map[int64][]byte{1: []byte(`{}`)}, 2); !errors.Is(err, bolt.ErrGone) {
				t.Errorf("journal Accept: %v, want ErrGone", err)
			}
			if err := j.Done(ctx, 1); !errors.Is(err, bolt.ErrGone) {
				t.Errorf("journal Done: %v, want ErrGone", err)
			}
			if err := s.Err(); !errors.Is(err, bolt.ErrGone) {
				t.Errorf("Err() = %v, want ErrGone", err)
			}
		})
	}
}
