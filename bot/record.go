package bot

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadSettingsRecord: stored settings that cannot be decoded (corrupt, or
// written by a newer captionbot).
var ErrBadSettingsRecord = errors.New("bad stored settings record")

// settingsRecordVersion is the version of the stored form.
const settingsRecordVersion = 1

// settingsRecord is the stored form of one Settings: versioned JSON, so a
// store (bbolt, PostgreSQL) can tell a record it cannot read.
type settingsRecord struct {
	Version  int      `json:"v"`
	Settings Settings `json:"settings"`
}

// MarshalSettings is the form every store keeps settings in.
func MarshalSettings(s Settings) ([]byte, error) {
	return json.Marshal(settingsRecord{Version: settingsRecordVersion, Settings: s})
}

// UnmarshalSettings reads MarshalSettings's form; errors wrap
// ErrBadSettingsRecord.
func UnmarshalSettings(b []byte) (Settings, error) {
	var rec settingsRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Settings{}, fmt.Errorf("%w: %v", ErrBadSettingsRecord, err)
	}
	if rec.Version != settingsRecordVersion {
		return Settings{}, fmt.Errorf("%w: version %d", ErrBadSettingsRecord, rec.Version)
	}
	return rec.Settings, nil
}
