package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// TestRefusedAndQueued: Refused hears each job Submit refuses, with the
// reason; Queued counts the jobs waiting for a worker.
func TestRefusedAndQueued(t *testing.T) {
	release := make(chan struct{})
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		<-release
		return bottest.DefaultDescription, nil
	}}
	svc := bot.NewService(d, &bottest.Refiner{}, &bottest.Preferences{})
	svc.Workers, svc.QueueSize = 1, 4
	svc.UserRate, svc.UserBurst = rate.Every(time.Hour), 2
	var refused []error
	svc.Refused = func(job bot.Job, err error) { refused = append(refused, err) }
	if svc.Queued() != 0 {
		t.Error("Queued before Start")
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan bot.Result, 3)
	job := bot.Job{Platform: "web", UserID: "u", ChatID: "u",
		Fetch:   func(context.Context) ([]byte, error) { return []byte("x"), nil },
		Deliver: func(_ context.Context, r bot.Result) error { done <- r; return nil }}
	for i := range 3 {
		err := svc.Submit(job)
		if (i < 2) != (err == nil) {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if len(refused) != 1 || !errors.Is(refused[0], bot.ErrRateLimited) {
		t.Errorf("refused %v", refused)
	}
	deadline := time.Now().Add(5 * time.Second)
	for svc.Queued() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if q := svc.Queued(); q != 1 {
		t.Errorf("Queued %d with one photo captioning and one waiting", q)
	}
	close(release)
	<-done
	<-done
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
