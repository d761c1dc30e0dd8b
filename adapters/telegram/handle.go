package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/captionbot/captionbot/bot"
)

// handle routes one update; tr is finished once its reply went out.
func (b *Bot) handle(ctx context.Context, u tgbotapi.Update, tr *tracker) {
	switch {
	case u.CallbackQuery != nil:
		b.handleCallback(ctx, u.CallbackQuery, tr)
	case u.Message != nil && u.Message.Chat != nil:
		b.handleMessage(ctx, u.Message, tr)
	default:
		tr.finish()
	}
}

// photoRef is the file a message offers as its photo.
type photoRef struct {
	fileID, uniqueID string
	size             int64
	// name and mime are a document's file name and MIME type, for
	// bot.CheckFile; a photo is always a JPEG.
	name, mime string
}

// minSide is the shorter side wanted for captioning: the encoder sees
// 224×224, so the smallest PhotoSize at least this big saves download and
// decode time without losing detail.
const minSide = 384

// photoOf returns the photo (or file) in m; ok is false when m has neither.
func photoOf(m *tgbotapi.Message) (ref photoRef, ok bool) {
	if m == nil {
		return photoRef{}, false
	}
	if len(m.Photo) > 0 {
		sizes := slices.Clone(m.Photo)
		slices.SortFunc(sizes, func(a, c tgbotapi.PhotoSize) int { return a.Width*a.Height - c.Width*c.Height })
		pick := sizes[len(sizes)-1]
		for _, s := range sizes {
			if min(s.Width, s.Height) >= minSide {
				pick = s
				break
			}
		}
		return photoRef{fileID: pick.FileID, uniqueID: pick.FileUniqueID, size: int64(pick.FileSize), mime: "image/jpeg"}, true
	}
	if d := m.Document; d != nil {
		return photoRef{fileID: d.FileID, uniqueID: d.FileUniqueID, size: int64(d.FileSize), name: d.FileName, mime: d.MimeType}, true
	}
	return photoRef{}, false
}

// userID is the sender: the user, or the chat a message was sent on behalf
// of (anonymous group admins, channels).
func userID(m *tgbotapi.Message) int64 {
	if m.From != nil {
		return m.From.ID
	}
	if m.SenderChat != nil {
		return m.SenderChat.ID
	}
	return m.Chat.ID
}

// mentions reports whether Telegram marked a mention of @username in text
// (an entity of type "mention"; an e-mail address such as
// me@username.com is none), and returns text without it. Entity offsets
// count UTF-16 units.
func mentions(text string, entities []tgbotapi.MessageEntity, username string) (bool, string) {
	if username == "" {
		return false, text
	}
	units := utf16.Encode([]rune(text))
	for _, e := range entities {
		if e.Type != "mention" || e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > len(units) {
			continue
		}
		name := string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
		if !strings.EqualFold(name, "@"+username) {
			continue
		}
		before := string(utf16.Decode(units[:e.Offset]))
		after := string(utf16.Decode(units[e.Offset+e.Length:]))
		return true, strings.TrimSpace(strings.TrimSpace(before) + " " + strings.TrimSpace(after))
	}
	return false, text
}

func (b *Bot) handleMessage(ctx context.Context, m *tgbotapi.Message, tr *tracker) {
	switch {
	case m.MigrateToChatID != 0: // in the old group
		b.migrate(ctx, m.Chat.ID, m.MigrateToChatID)
		tr.finish()
		return
	case m.MigrateFromChatID != 0: // in the new supergroup
		b.migrate(ctx, m.MigrateFromChatID, m.Chat.ID)
		tr.finish()
		return
	}
	private := m.Chat.IsPrivate()
	text, entities := m.Text, m.Entities
	if text == "" {
		text, entities = m.Caption, m.CaptionEntities
	}
	cmd, isCmd := bot.ParseCommand(text, b.Username())

	if ref, ok := photoOf(m); ok {
		mentioned, rest := mentions(text, entities, b.Username())
		hint := strings.TrimSpace(rest)
		addressed := private || mentioned
		if isCmd {
			if cmd.Name != "caption" && !private {
				tr.finish() // some other command as a photo caption: not for us in a group
				return
			}
			addressed, hint = true, cmd.Args
			if c, ok := bot.ParseCommand(rest, b.Username()); ok && mentioned {
				hint = c.Args
			}
		}
		if !addressed {
			if !b.albumWait(m, ref, tr) {
				tr.finish() // groups: speak only when asked
			}
			return
		}
		if !private {
			b.albumAddressed(m, hint)
		}
		b.submitPhoto(ctx, m, m, ref, photoJob{hint: hint}, tr)
		return
	}
	if isCmd && cmd.Name == "caption" {
		if ref, ok := photoOf(m.ReplyToMessage); ok {
			b.submitPhoto(ctx, m, m.ReplyToMessage, ref, photoJob{hint: cmd.Args}, tr)
			return
		}
	}
	defer tr.finish()
	if isCmd {
		if !private && !knownCommand(cmd.Name) && !addressedCommand(text) {
			return // "/foo" in a group may be another bot's: speak only when asked
		}
		b.handleCommand(ctx, m, cmd)
		return
	}
	if !private {
		return
	}
	if m.Video != nil || m.Animation != nil || m.Audio != nil || m.Voice != nil || m.VideoNote != nil {
		b.replyText(ctx, m.Chat.ID, m.MessageID, bot.UserMessage(bot.ErrUnsupportedFile))
		return
	}
	b.replyText(ctx, m.Chat.ID, m.MessageID, "Send me a photo and I'll write a post for it. /help lists what else I can do.")
}

// knownCommand reports whether name (alias resolved) is one of bot.Commands.
func knownCommand(name string) bool {
	return slices.ContainsFunc(bot.Commands, func(c bot.CommandInfo) bool { return c.Name == name })
}

// addressedCommand reports whether text's command names its bot
// ("/foo@captionbot"); bot.ParseCommand has already checked that the name is
// this bot's.
func addressedCommand(text string) bool {
	f := strings.Fields(text)
	return len(f) > 0 && strings.Contains(f[0], "@")
}

// photoJob holds the per-job choices of a photo request.
type photoJob struct {
	hint     string
	override bot.Settings
	variant  int
	// editID is the bot message a button press edits; 0 sends a new reply.
	editID int
	// refuse, when set, reports a refused job instead of a chat reply.
	refuse func(error)
}

// submitPhoto queues a job for the photo in photoMsg, asked for by trigger
// (the same message, a /caption reply, or the message under a button).
func (b *Bot) submitPhoto(ctx context.Context, trigger, photoMsg *tgbotapi.Message, ref photoRef, pj photoJob, tr *tracker) {
	chatID := trigger.Chat.ID
	user := userID(trigger)
	// A group hears one "busy" or "slow down" per burst, whoever sent the
	// photos; a private chat is one user anyway.
	noticeTo := strconv.FormatInt(user, 10)
	if !trigger.Chat.IsPrivate() {
		noticeTo = ""
	}
	refuse := func(err error) {
		switch {
		case pj.refuse != nil:
			pj.refuse(err)
		case b.slowDown.Quiet(chatIDString(chatID), noticeTo, err, time.Now()):
			// Already told to slow down (the rest of a big album): one
			// notice is enough.
		default:
			b.replyText(ctx, chatID, photoMsg.MessageID, bot.UserMessage(err))
		}
		tr.finish()
	}
	if err := bot.CheckFile(ref.name, ref.mime, ref.size, b.MaxFileSize); err != nil {
		refuse(err)
		return
	}
	stopTyping := b.typers.Start(ctx, chatID) // before the job is queued: never after a fast reply
	deadline := time.Now().Add(b.PhotoDeadline)
	job := bot.Job{
		Platform: Platform,
		ChatID:   chatIDString(chatID),
		UserID:   strconv.FormatInt(user, 10),
		Group:    !trigger.Chat.IsPrivate(),
		PhotoKey: ref.uniqueID,
		Fetch:    b.fetcher(ref, deadline),
		Override: pj.override,
		Hint:     pj.hint,
		Variant:  pj.variant,
		Deliver: func(ctx context.Context, res bot.Result) error {
			stopTyping()
			if errors.Is(res.Err, bot.ErrStopped) && b.canKeep(pj) {
				tr.keep() // cut off by shutdown: replayed at the next start
				return nil
			}
			if errors.Is(res.Err, errUnreachable) && b.canKeep(pj) {
				// Telegram was down for the whole photo deadline: the
				// photo is not lost, it waits in the journal.
				b.log().Error("photo could not be fetched; kept in the journal", "chat", chatID, "err", res.Err)
				tr.retryLater()
				return nil
			}
			// Replies get as long as the photo had to ride out an outage
			// (within the service's deliver timeout).
			ctx = withPatience(ctx, time.Now().Add(b.PhotoDeadline))
			sent, err := b.deliver(ctx, chatID, photoMsg.MessageID, pj.editID, res)
			switch {
			case errors.Is(err, errUnreachable) && sent == 0 && b.canKeep(pj):
				b.log().Error("reply could not be sent; kept in the journal", "chat", chatID, "err", err)
				tr.retryLater()
				return nil
			case errors.Is(err, ErrUnknownOutcome):
				// It may have been posted: posting again could answer twice.
				b.log().Warn("reply may not have been delivered; not sent again", "chat", chatID, "err", err)
				err = nil
			}
			tr.finish()
			return err
		},
	}
	if err := b.svc.Submit(job); err != nil {
		stopTyping()
		if errors.Is(err, bot.ErrStopped) && b.canKeep(pj) {
			tr.keep() // taken in just as the service stopped
			return
		}
		refuse(err)
		return
	}
}

// canKeep reports whether a photo request stopped by shutdown can wait in
// the journal for the next start instead of getting a "try again" reply.
// Button presses cannot: their callback query expires.
func (b *Bot) canKeep(pj photoJob) bool { return b.Journal != nil && pj.editID == 0 }

// fetcher downloads ref through getFile and file_endpoint, retrying
// transient failures (5xx, network errors) until deadline.
func (b *Bot) fetcher(ref photoRef, deadline time.Time) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		ctx = withPatience(ctx, deadline)
		var f tgbotapi.File
		err := b.request(ctx, "getFile", tgbotapi.Params{"file_id": ref.fileID}, &f)
		if err != nil {
			if apiCode(err) == http.StatusBadRequest && strings.Contains(strings.ToLower(apiMessage(err)), "too big") {
				// The Bot API server's own limit: the public server's 20 MB.
				return nil, fmt.Errorf("getFile: %w", &bot.FileTooLargeError{Limit: min(b.MaxFileSize, MaxDownload)})
			}
			return nil, err
		}
		if int64(f.FileSize) > b.MaxFileSize {
			return nil, b.tooLarge()
		}
		if f.FilePath == "" {
			return nil, fmt.Errorf("getFile: no file_path")
		}
		url := fmt.Sprintf(b.fileEndpoint, b.api.Token, f.FilePath)
		var data []byte
		err = b.call(ctx, "download", func(*tgbotapi.BotAPI) error {
			data, err = b.download(ctx, url)
			return err
		})
		return data, err
	}
}

// download GETs a file. A non-200 status becomes a *tgbotapi.Error with
// that code, so retryable treats it like an API error.
func (b *Bot) download(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, b.redact(err)
	}
	resp, err := b.httpClient.Do(req)
	if err != nil {
		return nil, b.redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &tgbotapi.Error{Code: resp.StatusCode, Message: "download: " + resp.Status}
	}
	data, err := bot.ReadLimited(resp.Body, b.MaxFileSize)
	return data, b.redact(err)
}

// tooLarge is the error for a file over MaxFileSize; it names the limit.
func (b *Bot) tooLarge() error { return &bot.FileTooLargeError{Limit: b.MaxFileSize} }

// settingCommands change settings and need admin rights in groups.
var settingCommands = []string{"network", "tone", "lang", "hashtags"}

func (b *Bot) commandRequest(ctx context.Context, chat *tgbotapi.Chat, user int64, senderChat *tgbotapi.Chat, cmd bot.Command) bot.CommandRequest {
	req := bot.CommandRequest{
		Platform: Platform,
		ChatID:   chatIDString(chat.ID),
		UserID:   strconv.FormatInt(user, 10),
		Group:    !chat.IsPrivate(),
		Place:    "group",
		Command:  cmd,
	}
	if chat.IsChannel() {
		req.Place = "channel"
	}
	if req.Group && cmd.Args != "" && slices.Contains(settingCommands, cmd.Name) {
		// Anonymous admins post as the group itself.
		req.Admin = (senderChat != nil && senderChat.ID == chat.ID) || b.isAdmin(ctx, chat.ID, user)
	}
	return req
}

func (b *Bot) handleCommand(ctx context.Context, m *tgbotapi.Message, cmd bot.Command) {
	req := b.commandRequest(ctx, m.Chat, userID(m), m.SenderChat, cmd)
	reply := b.svc.HandleCommand(ctx, req)
	msg := tgbotapi.NewMessage(m.Chat.ID, reply.Text)
	if req.Group {
		msg.ReplyToMessageID = m.MessageID
		msg.AllowSendingWithoutReply = true
	}
	if reply.Choices != nil {
		msg.ReplyMarkup = choicesKeyboard(reply.Choices)
	}
	if _, err := b.send(ctx, msg); err != nil {
		b.log().Error("command reply failed", "command", cmd.Name, "err", err)
	}
}

// replyText sends text as a reply to messageID; failures are logged.
func (b *Bot) replyText(ctx context.Context, chatID int64, messageID int, text string) {
	msg := tgbotapi.NewMessage(chatID, text)
	msg.ReplyToMessageID = messageID
	msg.AllowSendingWithoutReply = true
	if _, err := b.send(ctx, msg); err != nil {
		b.log().Error("reply failed", "chat", chatID, "err", err)
	}
}

// adminCache remembers each group's administrators for ttl.
type adminCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[int64]adminEntry
}

type adminEntry struct {
	ids     map[int64]bool
	expires time.Time
}

// isAdmin reports whether user administers chat (getChatAdministrators,
// cached). When Telegram cannot be asked, the answer is no.
func (b *Bot) isAdmin(ctx context.Context, chatID, user int64) bool {
	b.admins.mu.Lock()
	e, ok := b.admins.m[chatID]
	b.admins.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.ids[user]
	}
	var members []tgbotapi.ChatMember
	err := b.call(ctx, "getChatAdministrators", func(api *tgbotapi.BotAPI) error {
		var err error
		members, err = api.GetChatAdministrators(tgbotapi.ChatAdministratorsConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: chatID}})
		return err
	})
	if err != nil {
		b.log().Error("getChatAdministrators failed", "chat", chatID, "err", err)
		return false
	}
	e = adminEntry{ids: map[int64]bool{}, expires: time.Now().Add(b.admins.ttl)}
	for _, cm := range members {
		if cm.User != nil {
			e.ids[cm.User.ID] = true
		}
	}
	b.admins.mu.Lock()
	if b.admins.m == nil {
		b.admins.m = map[int64]adminEntry{}
	}
	b.admins.m[chatID] = e
	b.admins.mu.Unlock()
	return e.ids[user]
}
