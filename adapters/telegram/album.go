package telegram

import (
	"context"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Albums in groups. Telegram sends an album as one message per photo, with
// the caption (and so the mention or /caption) on one of them, in no
// guaranteed order. So that "@bot" on an album captions every photo of it,
// an unaddressed group photo that belongs to an album waits up to AlbumWait
// for a sibling that addresses the bot; if none comes, it is dropped
// silently, as any unaddressed group photo is.

// albumMemory is how long an album is remembered after its first photo.
const albumMemory = time.Minute

type albumKey struct {
	chat  int64
	group string
}

type album struct {
	addressed bool
	hint      string
	waiting   []waitingPhoto
	created   time.Time
}

type waitingPhoto struct {
	m   *tgbotapi.Message
	ref photoRef
	tr  *tracker
}

type albums struct {
	mu sync.Mutex
	m  map[albumKey]*album
}

// get returns the album for key, creating it; expired albums are dropped.
// Call with a.mu held.
func (a *albums) get(key albumKey, now time.Time) *album {
	if a.m == nil {
		a.m = map[albumKey]*album{}
	}
	for k, al := range a.m {
		if now.Sub(al.created) > albumMemory && len(al.waiting) == 0 {
			delete(a.m, k)
		}
	}
	al, ok := a.m[key]
	if !ok {
		al = &album{created: now}
		a.m[key] = al
	}
	return al
}

// albumAddressed records that a photo of m's album addressed the bot and
// submits the album's waiting photos with the same hint.
func (b *Bot) albumAddressed(m *tgbotapi.Message, hint string) {
	if m.MediaGroupID == "" {
		return
	}
	b.albums.mu.Lock()
	al := b.albums.get(albumKey{m.Chat.ID, m.MediaGroupID}, time.Now())
	al.addressed, al.hint = true, hint
	waiting := al.waiting
	al.waiting = nil
	b.albums.mu.Unlock()
	for _, w := range waiting {
		b.submitAlbumPhoto(w, hint)
	}
}

// albumWait handles an unaddressed group photo of an album: submitted if a
// sibling already addressed the bot, else held for AlbumWait. It reports
// false when m is not part of an album.
func (b *Bot) albumWait(m *tgbotapi.Message, ref photoRef, tr *tracker) bool {
	if m.MediaGroupID == "" {
		return false
	}
	key := albumKey{m.Chat.ID, m.MediaGroupID}
	b.albums.mu.Lock()
	al := b.albums.get(key, time.Now())
	if al.addressed {
		hint := al.hint
		b.albums.mu.Unlock()
		b.submitAlbumPhoto(waitingPhoto{m, ref, tr}, hint)
		return true
	}
	al.waiting = append(al.waiting, waitingPhoto{m, ref, tr})
	b.albums.mu.Unlock()
	time.AfterFunc(b.AlbumWait, func() { b.albumTimeout(key, m.MessageID) })
	return true
}

// albumTimeout drops a photo still waiting after AlbumWait: nobody asked.
func (b *Bot) albumTimeout(key albumKey, messageID int) {
	b.albums.mu.Lock()
	al := b.albums.m[key]
	var dropped *tracker
	if al != nil {
		for i, w := range al.waiting {
			if w.m.MessageID == messageID {
				dropped = w.tr
				al.waiting = append(al.waiting[:i], al.waiting[i+1:]...)
				break
			}
		}
	}
	b.albums.mu.Unlock()
	if dropped != nil {
		dropped.finish()
	}
}

func (b *Bot) submitAlbumPhoto(w waitingPhoto, hint string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.log().Debug("captioning album photo", "chat", w.m.Chat.ID, "album", w.m.MediaGroupID, "message", strconv.Itoa(w.m.MessageID))
	b.submitPhoto(ctx, w.m, w.m, w.ref, photoJob{hint: hint}, w.tr)
}
