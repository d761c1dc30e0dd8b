package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

func TestPrivatePhotoGetsPostWithButtons(t *testing.T) {
	h := newHarness(t).start()
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))

	sent := h.wait("sendMessage", 1)[0]
	if got := sent.Params.Get("text"); !strings.HasPrefix(got, "[instagram//en/v0] a dog runs through the grass.") {
		t.Errorf("post %q", got)
	}
	if sent.Params.Get("reply_to_message_id") != "5" || sent.Params.Get("chat_id") != "42" {
		t.Errorf("reply to %s in %s", sent.Params.Get("reply_to_message_id"), sent.Params.Get("chat_id"))
	}
	kb := keyboard(t, sent)
	for _, label := range []string{"Regenerate", "Tone", "X (Twitter)", "LinkedIn", "Facebook"} {
		if data := button(t, kb, label); len(data) > 64 {
			t.Errorf("callback_data %q over 64 bytes", data)
		}
	}
	if len(h.wait("sendChatAction", 1)) == 0 || h.api.Calls("sendChatAction")[0].Params.Get("action") != "typing" {
		t.Error("no typing action")
	}
	if len(h.api.Calls("setMyCommands")) != 1 {
		t.Error("commands not registered")
	}
	if dl := h.api.Calls("download"); len(dl) != 1 || dl[0].Params.Get("file_id") != "p1" {
		t.Errorf("downloads %+v (want the large size)", dl)
	}
}

// photoAndPost pushes a private photo and returns the photo message and the
// bot's post message (as Telegram would embed them in a callback).
func photoAndPost(t *testing.T, h *harness, chat int64, msgID int, fileID string) (photo, post map[string]any, data func(string) string) {
	t.Helper()
	h.api.AddFile(fileID, jpeg)
	photo = tg.PhotoMessage(msgID, tg.PrivateChat(chat), chat, fileID, "")
	n := len(h.api.Calls("sendMessage"))
	h.api.Push(tg.Message(photo))
	sent := h.wait("sendMessage", n+1)[n]
	post = tg.BotMessage(20000+msgID, tg.PrivateChat(chat), sent.Params.Get("text"), photo)
	kb := keyboard(t, sent)
	return photo, post, func(label string) string { return button(t, kb, label) }
}

func TestRegenerateEditsPostWithoutRecaptioning(t *testing.T) {
	h := newHarness(t).start()
	_, post, data := photoAndPost(t, h, 42, 5, "p1")
	h.api.Push(tg.Callback("cb1", 42, post, data("Regenerate")))

	edit := h.wait("editMessageText", 1)[0]
	if got := edit.Params.Get("text"); !strings.HasPrefix(got, "[instagram//en/v1]") {
		t.Errorf("regenerated post %q", got)
	}
	if edit.Params.Get("message_id") != "20005" {
		t.Errorf("edited message %s", edit.Params.Get("message_id"))
	}
	ans := h.wait("answerCallbackQuery", 1)[0]
	if ans.Params.Get("callback_query_id") != "cb1" {
		t.Errorf("answered %v", ans.Params)
	}
	if h.desc.Calls() != 1 || len(h.api.Calls("download")) != 1 {
		t.Errorf("describe calls %d, downloads %d; want 1, 1", h.desc.Calls(), len(h.api.Calls("download")))
	}
}

func TestNetworkButtonSwitchesNetwork(t *testing.T) {
	h := newHarness(t).start()
	_, post, data := photoAndPost(t, h, 42, 5, "p1")
	h.api.Push(tg.Callback("cb1", 42, post, data("LinkedIn")))
	edit := h.wait("editMessageText", 1)[0]
	if got := edit.Params.Get("text"); !strings.HasPrefix(got, "[linkedin//en/v0]") {
		t.Errorf("post %q", got)
	}
	kb := keyboard(t, edit)
	button(t, kb, "Instagram") // the old network is offered again
	h.wait("answerCallbackQuery", 1)

	// Tone button on the new post.
	post["text"] = edit.Params.Get("text")
	h.api.Push(tg.Callback("cb2", 42, post, button(t, kb, "Tone")))
	edit = h.wait("editMessageText", 2)[1]
	if got := edit.Params.Get("text"); !strings.HasPrefix(got, "[linkedin/"+bot.Tones[0]+"/en/v0]") {
		t.Errorf("post %q", got)
	}
}

func TestStaleOrBadButtonsAreAnswered(t *testing.T) {
	h := newHarness(t).start()
	// A post whose photo is gone from the message (no reply_to_message).
	orphan := tg.BotMessage(30000, tg.PrivateChat(42), "old", nil)
	h.api.Push(tg.Callback("cb1", 42, orphan, bot.PostAction{Kind: bot.ActionRegenerate, Network: "instagram", Variant: 1}.Data()))
	h.api.Push(tg.Callback("cb2", 42, orphan, "garbage"))
	calls := h.wait("answerCallbackQuery", 2)
	texts := calls[0].Params.Get("text") + " | " + calls[1].Params.Get("text")
	if !strings.Contains(texts, "no longer have that photo") || !strings.Contains(texts, "expired") {
		t.Errorf("answers %q", texts)
	}
}

func TestPhotoSentAsFile(t *testing.T) {
	h := newHarness(t).start()
	h.api.AddFile("f1", jpeg)
	h.api.Push(tg.Message(tg.DocumentMessage(7, tg.PrivateChat(42), 42, "f1", "IMG_1234.PNG", "", 3000)))
	sent := h.wait("sendMessage", 1)[0]
	if !strings.Contains(sent.Params.Get("text"), "a dog runs") {
		t.Errorf("post %q", sent.Params.Get("text"))
	}
}

func TestPDFIsRefusedFriendly(t *testing.T) {
	h := newHarness(t).start()
	h.api.Push(tg.Message(tg.DocumentMessage(7, tg.PrivateChat(42), 42, "doc", "report.pdf", "application/pdf", 3000)))
	sent := h.wait("sendMessage", 1)[0]
	if got := sent.Params.Get("text"); got != bot.UserMessage(bot.ErrUnsupportedFile) {
		t.Errorf("reply %q", got)
	}
	if len(h.api.Calls("getFile")) != 0 || h.desc.Calls() != 0 {
		t.Error("a PDF was downloaded or captioned")
	}
}

func TestTooLargeAndUndecodableFiles(t *testing.T) {
	d := &bottest.Describer{DescribeFunc: func(_ context.Context, img []byte) (bot.Description, error) {
		if string(img) == "garbage" {
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrCorruptImage)
		}
		return bottest.DefaultDescription, nil
	}}
	h := newHarness(t, withDescriber(d)).start()
	h.api.Push(tg.Message(tg.DocumentMessage(7, tg.PrivateChat(42), 42, "big", "huge.jpg", "image/jpeg", 25<<20)))
	h.api.AddFile("bad", []byte("garbage"))
	h.api.Push(tg.Message(tg.DocumentMessage(8, tg.PrivateChat(43), 43, "bad", "x.jpg", "image/jpeg", 7)))
	calls := h.wait("sendMessage", 2)
	got := map[string]string{}
	for _, c := range calls {
		got[c.Params.Get("chat_id")] = c.Params.Get("text")
	}
	if !strings.Contains(got["42"], "(the limit is 20 MB)") || got["43"] != bot.UserMessage(bot.ErrCorruptImage) {
		t.Errorf("replies %q", got)
	}
}

// With a local Bot API server the limit is the configured one, and the
// reply names it, whether the message stated the size or getFile did.
func TestTooLargeNamesConfiguredLimit(t *testing.T) {
	h := newHarness(t)
	h.bot.MaxFileSize = 3 << 19
	h.start()
	h.api.AddFile("big", make([]byte, 2<<20))
	h.api.Push(tg.Message(tg.DocumentMessage(7, tg.PrivateChat(42), 42, "big", "a.jpg", "image/jpeg", 2<<20)))
	h.api.Push(tg.Message(tg.DocumentMessage(8, tg.PrivateChat(43), 43, "big", "b.jpg", "image/jpeg", 0)))
	for _, c := range h.wait("sendMessage", 2) {
		if got := c.Params.Get("text"); !strings.Contains(got, "(the limit is 1.5 MB)") {
			t.Errorf("reply in %s: %q", c.Params.Get("chat_id"), got)
		}
	}
	if n := len(h.api.Calls("download")); n != 0 {
		t.Errorf("%d downloads of a file over the limit", n)
	}
}

// syncGroup sends /help in the group and waits for its answer, proving
// every earlier update was handled.
func syncGroup(h *harness, chat int64, n int) {
	h.api.Push(tg.Message(tg.TextMessage(999, tg.GroupChat(chat), 1, "/help", nil)))
	h.wait("sendMessage", n)
}

func TestGroupEtiquette(t *testing.T) {
	h := newHarness(t).start()
	g := tg.GroupChat(-100)
	h.api.AddFile("g1", jpeg)

	// Unaddressed photo: silence.
	h.api.Push(tg.Message(tg.PhotoMessage(1, g, 7, "g1", "look at this")))
	syncGroup(h, -100, 1)
	if n := len(h.api.Calls("sendMessage")); n != 1 || len(h.api.Calls("getFile")) != 0 {
		t.Fatalf("bot spoke unasked: %d messages, %d getFile", n, len(h.api.Calls("getFile")))
	}

	// Mention in the caption: post, hint without the mention.
	h.api.Push(tg.Message(tg.PhotoMessage(2, g, 7, "g1", "@captiontestbot sunset at the pier")))
	sent := h.wait("sendMessage", 2)[1]
	if sent.Params.Get("reply_to_message_id") != "2" || !strings.Contains(sent.Params.Get("text"), "a dog") {
		t.Errorf("mention reply %v", sent.Params)
	}
	if req := h.refiner.Requests(); req[len(req)-1].Hint != "sunset at the pier" {
		t.Errorf("hint %q", req[len(req)-1].Hint)
	}

	// /caption as a reply to a photo: post replying to the photo.
	photo := tg.PhotoMessage(3, g, 8, "g1", "")
	h.api.Push(tg.Message(tg.TextMessage(4, g, 9, "/caption@CaptionTestBot beach day", photo)))
	sent = h.wait("sendMessage", 3)[2]
	if sent.Params.Get("reply_to_message_id") != "3" {
		t.Errorf("/caption reply went to %s", sent.Params.Get("reply_to_message_id"))
	}

	// Photo captioned "/caption": post.
	h.api.Push(tg.Message(tg.PhotoMessage(5, g, 7, "g1", "/caption")))
	h.wait("sendMessage", 4)

	// A command for another bot, or one we don't know that names no bot
	// (another bot's, most likely): silence.
	h.api.Push(tg.Message(tg.TextMessage(6, g, 7, "/help@OtherBot", nil)))
	h.api.Push(tg.Message(tg.TextMessage(7, g, 7, "/roll 2d6", nil)))
	syncGroup(h, -100, 5)
	if n := len(h.api.Calls("sendMessage")); n != 5 {
		t.Errorf("%d messages, want 5", n)
	}

	// An unknown command addressed to us: a pointer to /help.
	h.api.Push(tg.Message(tg.TextMessage(8, g, 7, "/roll@CaptionTestBot 2d6", nil)))
	sent = h.wait("sendMessage", 6)[5]
	if got := sent.Params.Get("text"); !strings.Contains(got, "/roll") || !strings.Contains(got, "/help") || sent.Params.Get("reply_to_message_id") != "8" {
		t.Errorf("addressed unknown command: reply %q to %s", got, sent.Params.Get("reply_to_message_id"))
	}

	// The bot's name in an e-mail address is no mention: silence.
	files := len(h.api.Calls("getFile"))
	h.api.Push(tg.Message(tg.PhotoMessage(9, g, 7, "g1", "write to me@captiontestbot.com")))
	syncGroup(h, -100, 7)
	waitIdle(t, h.bot) // a (wrongly) submitted photo is in flight until answered
	if n := len(h.api.Calls("sendMessage")); n != 7 || len(h.api.Calls("getFile")) != files {
		t.Errorf("an e-mail address was taken as a mention: %d messages (want 7), %d getFile (want %d)", n, len(h.api.Calls("getFile")), files)
	}
}

// A user over the rate limit is told once, not once per photo of the burst.
func TestRateLimitNoticeOncePerBurst(t *testing.T) {
	h := newHarness(t)
	h.svc.UserRate, h.svc.UserBurst = 0.001, 2 // no refill during the test
	h.start()
	h.api.AddFile("p1", jpeg)
	for i := range 6 {
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, tg.PrivateChat(42), 42, "p1", "")))
	}
	h.wait("sendMessage", 3)
	h.api.Push(tg.Message(tg.PhotoMessage(20, tg.PrivateChat(43), 43, "p1", ""))) // another user is not limited
	h.wait("sendMessage", 4)
	time.Sleep(200 * time.Millisecond)
	posts, notices := 0, 0
	for _, c := range h.api.Calls("sendMessage") {
		switch text := c.Params.Get("text"); {
		case c.Params.Get("chat_id") == "43":
			if !strings.Contains(text, "a dog") {
				t.Errorf("other user's reply %q", text)
			}
		case strings.Contains(text, "faster than I can keep up"):
			notices++
		case strings.Contains(text, "a dog"):
			posts++
		default:
			t.Errorf("unexpected reply %q", text)
		}
	}
	if posts != 2 || notices != 1 {
		t.Errorf("%d posts and %d rate-limit notices for 6 photos with a burst of 2; want 2 and 1", posts, notices)
	}
}

func TestGroupSettingsNeedAdmin(t *testing.T) {
	h := newHarness(t).start()
	g := tg.GroupChat(-100)
	h.api.SetAdmins(-100, 1)
	h.api.Push(tg.Message(tg.TextMessage(1, g, 2, "/network x", nil)))
	if got := h.wait("sendMessage", 1)[0].Params.Get("text"); !strings.Contains(got, "only this group's admins") {
		t.Errorf("non-admin reply %q", got)
	}
	h.api.Push(tg.Message(tg.TextMessage(2, g, 1, "/network x", nil)))
	if got := h.wait("sendMessage", 2)[1].Params.Get("text"); !strings.Contains(got, "this group's posts will be written for X") {
		t.Errorf("admin reply %q", got)
	}
	// The group's choice applies to a member's photo.
	h.api.AddFile("g1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(3, g, 2, "g1", "@CaptionTestBot")))
	if got := h.wait("sendMessage", 3)[2].Params.Get("text"); !strings.HasPrefix(got, "[x/") {
		t.Errorf("group post %q", got)
	}
	if n := len(h.api.Calls("getChatAdministrators")); n != 1 {
		t.Errorf("getChatAdministrators called %d times, want 1 (cached)", n)
	}
}

func TestCommandsAndMenus(t *testing.T) {
	h := newHarness(t).start()
	chat := tg.PrivateChat(42)
	h.api.Push(tg.Message(tg.TextMessage(1, chat, 42, "/frobnicate", nil)))
	if got := h.wait("sendMessage", 1)[0].Params.Get("text"); !strings.Contains(got, "/help") {
		t.Errorf("unknown command reply %q", got)
	}
	h.api.Push(tg.Message(tg.TextMessage(2, chat, 42, "/style", nil)))
	menu := h.wait("sendMessage", 2)[1]
	data := button(t, keyboard(t, menu), "LinkedIn")
	h.api.Push(tg.Callback("cb1", 42, tg.BotMessage(777, chat, menu.Params.Get("text"), nil), data))
	if got := h.wait("answerCallbackQuery", 1)[0].Params.Get("text"); !strings.Contains(got, "LinkedIn") {
		t.Errorf("menu answer %q", got)
	}
	h.api.Push(tg.Message(tg.TextMessage(3, chat, 42, "/settings", nil)))
	if got := h.wait("sendMessage", 3)[2].Params.Get("text"); !strings.Contains(got, "Network: LinkedIn") {
		t.Errorf("settings %q", got)
	}
	h.api.Push(tg.Message(tg.TextMessage(4, chat, 42, "hello there", nil)))
	if got := h.wait("sendMessage", 4)[3].Params.Get("text"); !strings.Contains(got, "Send me a photo") {
		t.Errorf("text reply %q", got)
	}
}

func TestRateLimitedOnSendIsRetried(t *testing.T) {
	h := newHarness(t).start()
	h.api.FailNext("sendMessage", http.StatusTooManyRequests)
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	calls := h.wait("sendMessage", 2)
	if gap := calls[1].At.Sub(calls[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %s, want retry_after (1 s)", gap)
	}
	if calls[0].Params.Get("text") != calls[1].Params.Get("text") {
		t.Error("retry sent different text")
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.api.Calls("sendMessage")); n != 2 {
		t.Errorf("sendMessage calls %d, want 2", n)
	}
}

func TestPollingSurvivesServerErrors(t *testing.T) {
	api := tg.NewServer()
	t.Cleanup(api.Close)
	h := newHarness(t, withAPI(api))
	api.FailNext("getUpdates", 502, 500, http.StatusTooManyRequests)
	h.start()
	api.AddFile("p1", jpeg)
	api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("sendMessage", 1)
	if n := len(api.Calls("getUpdates")); n < 4 {
		t.Errorf("getUpdates calls %d, want ≥ 4", n)
	}
}

func TestLongPostIsSplit(t *testing.T) {
	long := strings.Repeat("word ", 1000) + "\n\n" + strings.Repeat("ж", 3000)
	rf := &bottest.Refiner{RefineFunc: func(context.Context, bot.RefineRequest) (bot.Post, error) {
		return bot.Post{Text: long, Network: "facebook"}, nil
	}}
	h := newHarness(t, withRefiner(rf)).start()
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("sendMessage", 2)
	time.Sleep(50 * time.Millisecond)
	calls := h.api.Calls("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("%d messages, want 2", len(calls))
	}
	if calls[0].Params.Get("reply_markup") != "" || calls[1].Params.Get("reply_markup") == "" {
		t.Error("buttons must be on the last part only")
	}
	if got := strings.Fields(calls[0].Params.Get("text") + " " + calls[1].Params.Get("text")); strings.Join(got, " ") != strings.Join(strings.Fields(long), " ") {
		t.Error("parts do not add up to the post")
	}
}

func TestRestartKeepsSettingsAndSendsNothingTwice(t *testing.T) {
	dir := t.TempDir()
	api := tg.NewServer()
	t.Cleanup(api.Close)
	api.AddFile("p1", jpeg)
	chat := tg.PrivateChat(42)

	h1 := newHarness(t, withAPI(api), withStore(dir)).start()
	api.Push(tg.Message(tg.TextMessage(1, chat, 42, "/network linkedin", nil)))
	api.Push(tg.Message(tg.PhotoMessage(2, chat, 42, "p1", "")))
	h1.wait("sendMessage", 2)
	h1.stop()
	if api.Confirmed() != 3 {
		t.Fatalf("confirmed offset %d, want 3", api.Confirmed())
	}

	h2 := newHarness(t, withAPI(api), withStore(dir)).start()
	api.Push(tg.Message(tg.PhotoMessage(3, chat, 42, "p1", "")))
	sent := h2.wait("sendMessage", 3)
	if got := sent[2].Params.Get("text"); !strings.HasPrefix(got, "[linkedin/") {
		t.Errorf("after restart: %q", got)
	}
	h2.stop()
	if n := len(api.Calls("sendMessage")); n != 3 {
		t.Errorf("sendMessage calls %d, want 3 (nothing re-sent)", n)
	}
	for _, c := range api.Calls("sendMessage") {
		if c.Params.Get("reply_to_message_id") == "1" && strings.Count(c.Params.Get("text"), "Done") > 1 {
			t.Error("duplicate")
		}
	}
}

func TestSIGTERMMidJobStillReplies(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		close(started)
		<-release
		return bottest.DefaultDescription, nil
	}}
	h := newHarness(t, withDescriber(d), withStore(t.TempDir())).start()
	h.api.AddFile("p1", jpeg)
	id := h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	<-started
	h.cancel() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	if len(h.api.Calls("sendMessage")) != 0 {
		t.Fatal("replied before the job finished")
	}
	close(release)
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown hung")
	}
	h.stopped = true
	h.store.Close()
	if n := len(h.api.Calls("sendMessage")); n != 1 {
		t.Fatalf("sendMessage calls %d, want 1", n)
	}
	if h.api.Confirmed() <= id {
		t.Errorf("offset %d not confirmed past update %d", h.api.Confirmed(), id)
	}
}

func TestJournalReplaysUnfinishedUpdates(t *testing.T) {
	dir := t.TempDir()
	api := tg.NewServer()
	t.Cleanup(api.Close)
	api.AddFile("p1", jpeg)
	// A crash left update 41 accepted (journaled, confirmed to Telegram)
	// but unanswered.
	h := newHarness(t, withAPI(api), withStore(dir))
	raw := []byte(`{"update_id":41,"message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"photo":[{"file_id":"p1","file_unique_id":"up1","width":800,"height":600}]}}`)
	if err := h.bot.Journal.Accept(context.Background(), map[int64][]byte{41: raw}, 42); err != nil {
		t.Fatal(err)
	}
	h.start()
	sent := h.wait("sendMessage", 1)[0]
	if sent.Params.Get("reply_to_message_id") != "9" {
		t.Errorf("replayed reply %v", sent.Params)
	}
	h.stop()
	h2 := newHarness(t, withAPI(api), withStore(dir))
	pending, err := h2.bot.Journal.Pending(context.Background())
	if err != nil || len(pending) != 0 {
		t.Errorf("journal after reply: %v %v", pending, err)
	}
	h2.store.Close()
}

func TestBusyQueueGetsReply(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		n.Add(1)
		<-release
		return bottest.DefaultDescription, nil
	}}
	h := newHarness(t, withDescriber(d))
	h.svc.Workers, h.svc.QueueSize = 1, 1
	h.start()
	h.api.AddFile("p1", jpeg)
	for i := range 3 {
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, tg.PrivateChat(int64(50+i)), int64(50+i), "p1", "")))
	}
	busy := h.wait("sendMessage", 1)[0]
	if got := busy.Params.Get("text"); got != bot.UserMessage(bot.ErrBusy) {
		t.Errorf("reply %q, want busy", got)
	}
	close(release)
	h.wait("sendMessage", 3)
}

// One user whose burst meets a full queue is told once that the bot is busy.
func TestBusyNoticeOncePerBurst(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, withDescriber(blockingDescriber(release)))
	h.svc.Workers, h.svc.QueueSize = 1, 1
	h.start()
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(1, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("download", 1) // the worker holds photo 1; the queue is empty
	for i := range 5 {
		h.api.Push(tg.Message(tg.PhotoMessage(i+2, tg.PrivateChat(42), 42, "p1", "")))
	}
	h.wait("sendMessage", 1)
	time.Sleep(200 * time.Millisecond)
	busy := 0
	for _, c := range h.api.Calls("sendMessage") {
		if c.Params.Get("text") == bot.UserMessage(bot.ErrBusy) {
			busy++
		}
	}
	if busy != 1 {
		t.Errorf("%d busy replies for 4 photos refused in one burst, want 1", busy)
	}
	close(release)
	h.wait("sendMessage", 3) // photo 1, the queued photo, the busy notice
}

func TestWebhook(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.svc.Shutdown(context.Background()) })
	srv := httptest.NewServer(h.bot.WebhookHandler("s3cret"))
	defer srv.Close()
	h.api.AddFile("p1", jpeg)
	body := `{"update_id":7,"message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"photo":[{"file_id":"p1","file_unique_id":"up1","width":800,"height":600}]}}`
	post := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusForbidden {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post(""); code != http.StatusForbidden {
		t.Errorf("no secret: %d", code)
	}
	if code := post("s3cret"); code != http.StatusOK {
		t.Fatalf("good secret: %d", code)
	}
	h.wait("sendMessage", 1)
	h.bot.inflight.Wait()
}

func TestRunWebhookRegistersAndStops(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.bot.RunWebhook(ctx, WebhookConfig{URL: "https://bot.example.com/tg/hook", Listen: "127.0.0.1:0", SecretToken: "s3cret"})
	}()
	c := h.wait("setWebhook", 1)[0]
	if c.Params.Get("url") != "https://bot.example.com/tg/hook" || c.Params.Get("secret_token") != "s3cret" {
		t.Errorf("setWebhook %v", c.Params)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = h.svc.Shutdown(context.Background())
	if err := h.bot.RunWebhook(context.Background(), WebhookConfig{URL: "/relative", Listen: ":0", SecretToken: "x"}); err == nil {
		t.Error("relative URL accepted")
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	h := newHarness(t)
	h.bot.defaults()
	h.bot.MaxRetries = 1
	h.api.Close() // every call now fails with a connection error quoting the URL
	err := h.bot.request(context.Background(), "sendMessage", nil, nil)
	if err == nil || strings.Contains(err.Error(), tg.Token) {
		t.Errorf("error %v", err)
	}
	if _, err := New(context.Background(), Config{Token: tg.Token, APIEndpoint: h.api.APIEndpoint()}, h.svc); err == nil || strings.Contains(err.Error(), tg.Token) {
		t.Errorf("New error %v", err)
	}
}

func TestJobCutOffByShutdownIsReplayedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	api := tg.NewServer()
	t.Cleanup(api.Close)
	api.AddFile("p1", jpeg)
	hang := &bottest.Describer{DescribeFunc: func(ctx context.Context, _ []byte) (bot.Description, error) {
		<-ctx.Done()
		return bot.Description{}, ctx.Err()
	}}
	h1 := newHarness(t, withAPI(api), withStore(dir), withDescriber(hang))
	h1.svc.ShutdownGrace = 200 * time.Millisecond
	h1.start()
	id := api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h1.wait("download", 1)
	if err := h1.stopErr(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown error %v, want the grace period's deadline", err)
	}
	if n := len(api.Calls("sendMessage")); n != 0 {
		t.Fatalf("%d messages sent for a job cut off by shutdown", n)
	}
	if api.Confirmed() <= id {
		t.Fatalf("offset not confirmed")
	}

	h2 := newHarness(t, withAPI(api), withStore(dir)).start()
	sent := h2.wait("sendMessage", 1)[0]
	if sent.Params.Get("reply_to_message_id") != "5" || !strings.Contains(sent.Params.Get("text"), "a dog") {
		t.Errorf("replayed reply %v", sent.Params)
	}
	h2.stop()
	if n := len(api.Calls("sendMessage")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestTypingRepeatsWhileWorking(t *testing.T) {
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, _ []byte) (bot.Description, error) {
		time.Sleep(350 * time.Millisecond)
		return bottest.DefaultDescription, nil
	}}
	h := newHarness(t, withDescriber(d))
	h.bot.TypingInterval = 100 * time.Millisecond
	h.start()
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	reply := h.wait("sendMessage", 1)[0]
	typing := h.api.Calls("sendChatAction")
	if len(typing) < 3 {
		t.Errorf("%d typing actions in 350 ms at a 100 ms interval, want ≥ 3", len(typing))
	}
	time.Sleep(250 * time.Millisecond)
	for _, c := range h.api.Calls("sendChatAction") {
		if c.At.After(reply.At.Add(20 * time.Millisecond)) {
			t.Errorf("typing action %s after the reply", c.At.Sub(reply.At))
		}
	}
}

func TestFileErrorsFromTelegram(t *testing.T) {
	h := newHarness(t).start()
	h.api.AddFile("p1", jpeg)
	// The photo message does not say its size; getFile refuses it.
	h.api.FailNextWith("getFile", http.StatusBadRequest, "Bad Request: file is too big")
	h.api.Push(tg.Message(tg.DocumentMessage(7, tg.PrivateChat(42), 42, "p1", "scan.png", "image/png", 0)))
	if got := h.wait("sendMessage", 1)[0].Params.Get("text"); !strings.Contains(got, "(the limit is 20 MB)") {
		t.Errorf("reply %q", got)
	}
	// A 502 on getFile is retried, and the photo gets its post.
	h.api.FailNext("getFile", http.StatusBadGateway)
	h.api.Push(tg.Message(tg.PhotoMessage(8, tg.PrivateChat(43), 43, "p1", "")))
	sent := h.wait("sendMessage", 2)[1]
	if !strings.Contains(sent.Params.Get("text"), "a dog") {
		t.Errorf("post %q", sent.Params.Get("text"))
	}
}

func TestGroupMenuButtonNeedsAdmin(t *testing.T) {
	h := newHarness(t).start()
	g := tg.GroupChat(-100)
	h.api.SetAdmins(-100, 1)
	menu := tg.BotMessage(500, g, "Current network: Instagram. Choose one:", nil)
	h.api.Push(tg.Callback("cb1", 2, menu, "s|network|x"))
	ans := h.wait("answerCallbackQuery", 1)[0]
	if !strings.Contains(ans.Params.Get("text"), "only this group's admins") || ans.Params.Get("show_alert") != "true" {
		t.Errorf("non-admin answer %v", ans.Params)
	}
	h.api.Push(tg.Callback("cb2", 1, menu, "s|network|x"))
	if got := h.wait("answerCallbackQuery", 2)[1].Params.Get("text"); !strings.Contains(got, "this group's posts will be written for X") {
		t.Errorf("admin answer %q", got)
	}
	edits := h.wait("editMessageText", 1)
	time.Sleep(50 * time.Millisecond)
	if len(h.api.Calls("editMessageText")) != 1 || edits[0].Params.Get("message_id") != "500" {
		t.Errorf("menu edits %+v, want one (the admin's)", h.api.Calls("editMessageText"))
	}
}

func TestPollingRemovesLeftoverWebhook(t *testing.T) {
	api := tg.NewServer()
	t.Cleanup(api.Close)
	api.FailNextWith("getUpdates", http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	h := newHarness(t, withAPI(api)).start()
	h.wait("deleteWebhook", 1)
	api.AddFile("p1", jpeg)
	api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("sendMessage", 1)
}

func TestGroupAlbumMentionCaptionsEveryPhoto(t *testing.T) {
	h := newHarness(t)
	h.bot.AlbumWait = 300 * time.Millisecond
	h.start()
	g := tg.GroupChat(-100)
	h.api.AddFile("a1", jpeg)
	album := func(msgID int, group, caption string) map[string]any {
		m := tg.PhotoMessage(msgID, g, 7, "a1", caption)
		m["media_group_id"] = group
		return m
	}
	// The mention is on the second photo; the first waits for it, the third
	// comes after it.
	h.api.Push(tg.Message(album(1, "A", "")))
	h.api.Push(tg.Message(album(2, "A", "@CaptionTestBot our trip")))
	h.api.Push(tg.Message(album(3, "A", "")))
	sent := h.wait("sendMessage", 3)
	replied := map[string]bool{}
	for _, c := range sent {
		replied[c.Params.Get("reply_to_message_id")] = true
	}
	if !replied["1"] || !replied["2"] || !replied["3"] {
		t.Errorf("replies to %v, want 1, 2 and 3", replied)
	}
	for _, r := range h.refiner.Requests() {
		if r.Hint != "our trip" {
			t.Errorf("hint %q", r.Hint)
		}
	}

	// An album nobody asked about: silence, and its updates are finished.
	h.api.Push(tg.Message(album(10, "B", "")))
	h.api.Push(tg.Message(album(11, "B", "just us")))
	time.Sleep(600 * time.Millisecond)
	syncGroup(h, -100, 4)
	if n := len(h.api.Calls("sendMessage")); n != 4 {
		t.Errorf("%d messages, want 4 (3 posts + /help)", n)
	}
}

func TestOneTypingLoopPerChat(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, withDescriber(blockingDescriber(release)))
	h.bot.TypingInterval = 100 * time.Millisecond
	h.start()
	for i := range 5 {
		id := fmt.Sprintf("p%d", i)
		h.api.AddFile(id, jpeg)
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, tg.PrivateChat(42), 42, id, "")))
	}
	h.wait("download", 4) // four workers busy, one photo queued
	time.Sleep(320 * time.Millisecond)
	if n := len(h.api.Calls("sendChatAction")); n < 3 || n > 5 {
		t.Errorf("%d typing actions for 5 photos in one chat over ~3 intervals, want one loop (3-5)", n)
	}
	close(release)
	h.wait("sendMessage", 5)
}

// A burst of photos refused in a group gets one notice for the chat, not
// one per photo or per sender.
func TestGroupRefusalNoticeOncePerBurst(t *testing.T) {
	h := newHarness(t)
	h.svc.ChatRate, h.svc.ChatBurst = 0.001, 2 // no refill during the test
	h.start()
	g := tg.GroupChat(-100)
	h.api.AddFile("g1", jpeg)
	for i := range 6 {
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, g, int64(7+i%3), "g1", "@CaptionTestBot")))
	}
	h.wait("sendMessage", 3)
	waitIdle(t, h.bot)
	posts, notices := 0, 0
	for _, c := range h.api.Calls("sendMessage") {
		switch text := c.Params.Get("text"); {
		case strings.Contains(text, "a dog"):
			posts++
		default:
			notices++
		}
	}
	if posts != 2 || notices != 1 {
		t.Errorf("%d posts and %d notices for 6 photos in a group with a burst of 2; want 2 and 1", posts, notices)
	}
}

// Photos that come and go in one chat do not restart its typing action: at
// most one per TypingInterval per chat (the slow-LLM load test sent 14 a
// second for 20 chats).
func TestTypingAtMostOncePerInterval(t *testing.T) {
	h := newHarness(t)
	h.bot.TypingInterval = time.Hour // nothing here waits for it
	h.start()
	for i := range 4 {
		id := fmt.Sprintf("p%d", i)
		h.api.AddFile(id, jpeg)
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, tg.PrivateChat(42), 42, id, "")))
		h.wait("sendMessage", i+1) // one after the other: each starts a new loop
	}
	h.api.AddFile("other", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(9, tg.PrivateChat(43), 43, "other", "")))
	h.wait("sendMessage", 5)
	perChat := map[string]int{}
	for _, c := range h.api.Calls("sendChatAction") {
		perChat[c.Params.Get("chat_id")]++
	}
	if perChat["42"] != 1 || perChat["43"] != 1 {
		t.Errorf("typing actions per chat %v, want one each", perChat)
	}
}
