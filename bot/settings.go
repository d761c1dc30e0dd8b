package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Scope says whose settings a PrefKey names.
type Scope string

// The two scopes: a person, or a chat (a Telegram group, a Discord guild).
const (
	ScopeUser Scope = "user"
	ScopeChat Scope = "chat"
)

// PrefKey names one settings record: a user or a chat on one platform.
// IDs are the platform's own, as decimal strings for numeric IDs.
type PrefKey struct {
	Platform string `json:"platform"`
	Scope    Scope  `json:"scope"`
	ID       string `json:"id"`
}

func (k PrefKey) String() string { return k.Platform + ":" + string(k.Scope) + ":" + k.ID }

// ErrBadPrefKey: a PrefKey with an empty platform or ID or an unknown scope.
var ErrBadPrefKey = errors.New("bad preference key")

// Validate reports whether k can be stored.
func (k PrefKey) Validate() error {
	if k.Platform == "" || k.ID == "" || (k.Scope != ScopeUser && k.Scope != ScopeChat) {
		return fmt.Errorf("%w: %q", ErrBadPrefKey, k.String())
	}
	return nil
}

// Preferences stores settings per user and per chat. Get returns the zero
// Settings (and no error) for a key never set. Each calls fn for every stored
// record (in any order) and stops at fn's first error, which it returns.
// adapters/bolt implements it on disk; bottest.Preferences in memory.
type Preferences interface {
	Get(ctx context.Context, key PrefKey) (Settings, error)
	Set(ctx context.Context, key PrefKey, s Settings) error
	Each(ctx context.Context, fn func(PrefKey, Settings) error) error
}

// MoveChatSettings moves a chat's settings to the chat's new ID on the same
// platform, for chats a platform renumbers (a Telegram group upgraded to a
// supergroup). Settings already saved under the new ID win field by field;
// the old record is cleared (set to the zero Settings). A chat without
// settings moves nothing, so moving twice is harmless.
func (s *Service) MoveChatSettings(ctx context.Context, platform, fromID, toID string) error {
	from := PrefKey{Platform: platform, Scope: ScopeChat, ID: fromID}
	to := PrefKey{Platform: platform, Scope: ScopeChat, ID: toID}
	if err := from.Validate(); err != nil {
		return err
	}
	if err := to.Validate(); err != nil {
		return err
	}
	if s.prefs == nil || fromID == toID {
		return nil
	}
	old, err := s.prefs.Get(ctx, from)
	if err != nil {
		return fmt.Errorf("move chat settings: %w", err)
	}
	if old == (Settings{}) {
		return nil
	}
	cur, err := s.prefs.Get(ctx, to)
	if err != nil {
		return fmt.Errorf("move chat settings: %w", err)
	}
	if err := s.prefs.Set(ctx, to, cur.Merge(old)); err != nil {
		return fmt.Errorf("move chat settings: %w", err)
	}
	if err := s.prefs.Set(ctx, from, Settings{}); err != nil {
		return fmt.Errorf("move chat settings: %w", err)
	}
	return nil
}

// Merge returns s with every unset field filled from fallback.
func (s Settings) Merge(fallback Settings) Settings {
	if s.Network == "" {
		s.Network = fallback.Network
	}
	if s.Tone == "" {
		s.Tone = fallback.Tone
	}
	if s.Language == "" {
		s.Language = fallback.Language
	}
	if s.Hashtags == nil && fallback.Hashtags != nil {
		n := *fallback.Hashtags
		s.Hashtags = &n
	}
	return s
}

// usable drops a stored language that is no longer accepted (saved before
// /lang checked ISO 639-1 codes, such as "zz"), so that the default applies
// instead of every photo failing.
func (s Settings) usable() Settings {
	if s.Language != "" {
		if l, err := ParseLanguage(s.Language); err != nil || l != s.Language {
			s.Language = ""
		}
	}
	return s
}

// HashtagCount is the wanted hashtag count for a RefineRequest: the set
// value, or -1 (the network's default) when unset.
func (s Settings) HashtagCount() int {
	if s.Hashtags == nil {
		return -1
	}
	return *s.Hashtags
}

// PrefRecord is one line of a preferences backup.
type PrefRecord struct {
	PrefKey
	Settings Settings `json:"settings"`
}

// prefBackup is the JSON document written by ExportPreferences.
type prefBackup struct {
	Version int          `json:"version"`
	Records []PrefRecord `json:"records"`
}

const prefBackupVersion = 1

// ExportPreferences writes every record of p to w as one JSON document
// ({"version":1,"records":[...]}), for backups.
func ExportPreferences(ctx context.Context, p Preferences, w io.Writer) (int, error) {
	b := prefBackup{Version: prefBackupVersion, Records: []PrefRecord{}}
	err := p.Each(ctx, func(k PrefKey, s Settings) error {
		b.Records = append(b.Records, PrefRecord{PrefKey: k, Settings: s})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("export preferences: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return 0, fmt.Errorf("export preferences: %w", err)
	}
	return len(b.Records), nil
}

// ErrBadBackup: an import document that is not a preferences backup.
var ErrBadBackup = errors.New("not a captionbot preferences backup")

// ImportPreferences reads a document written by ExportPreferences and stores
// every record in p (overwriting records with the same key). It validates the
// whole document before writing anything.
func ImportPreferences(ctx context.Context, p Preferences, r io.Reader) (int, error) {
	var b prefBackup
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	if b.Version != prefBackupVersion {
		return 0, fmt.Errorf("%w: version %d, want %d", ErrBadBackup, b.Version, prefBackupVersion)
	}
	for i, rec := range b.Records {
		// A backup made before /lang checked ISO 639-1 codes may hold one
		// that is no longer accepted: it goes back to the default.
		rec.Settings = rec.Settings.usable()
		b.Records[i] = rec
		if err := rec.PrefKey.Validate(); err != nil {
			return 0, fmt.Errorf("%w: record %d: %v", ErrBadBackup, i, err)
		}
		if err := ValidateSettings(rec.Settings); err != nil {
			return 0, fmt.Errorf("%w: record %d: %v", ErrBadBackup, i, err)
		}
	}
	for i, rec := range b.Records {
		if err := p.Set(ctx, rec.PrefKey, rec.Settings); err != nil {
			return i, fmt.Errorf("import preferences: %w", err)
		}
	}
	return len(b.Records), nil
}
