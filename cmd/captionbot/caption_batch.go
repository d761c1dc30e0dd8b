package main

import (
	"context"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// defaultCaptionBatch is caption's --batch default. One photo at a time:
// on the 2-vCPU machine of the model card, batching measured no faster than
// one-thread sessions per core (model card, "Batching across photos").
const defaultCaptionBatch = 1

// batchDescriber describes several photos at once, each with its own error
// (captioner.Captioner.DescribeBatch).
type batchDescriber interface {
	DescribeBatch(ctx context.Context, photos [][]byte) ([]bot.Description, []error)
}

// captionAllBatched is captionAll in batches of up to batch photos, one
// DescribeBatch call each, with at most inflight batches in progress. A photo
// that cannot be read fails alone; emit is called for each item, in input
// order.
func captionAllBatched(ctx context.Context, d batchDescriber, items []imageItem, batch, inflight int, emit func(captionResult)) {
	var chunks [][]imageItem
	for s := 0; s < len(items); s += batch {
		chunks = append(chunks, items[s:min(s+batch, len(items))])
	}
	results := make([]chan []captionResult, len(chunks))
	for i := range results {
		results[i] = make(chan []captionResult, 1)
	}
	slots := make(chan struct{}, max(inflight, 1))
	go func() {
		for i, chunk := range chunks {
			slots <- struct{}{} // emit frees a slot per chunk
			go func() { results[i] <- captionChunk(ctx, d, chunk) }()
		}
	}()
	for i := range chunks {
		rs := <-results[i]
		<-slots
		for _, r := range rs {
			emit(r)
		}
	}
}

// captionChunk reads a chunk's photos and describes those it could read in
// one DescribeBatch call.
func captionChunk(ctx context.Context, d batchDescriber, chunk []imageItem) []captionResult {
	start := time.Now()
	out := make([]captionResult, len(chunk))
	var photos [][]byte
	var idx []int
	for i, it := range chunk {
		out[i].line = captionLine{Image: it.path}
		if out[i].err = it.err; it.err != nil {
			continue
		}
		if out[i].err = ctx.Err(); out[i].err != nil {
			continue
		}
		data, err := readImageFile(it.path)
		if out[i].err = err; err != nil {
			continue
		}
		photos, idx = append(photos, data), append(idx, i)
	}
	if len(photos) == 0 {
		return out
	}
	descs, errs := d.DescribeBatch(ctx, photos)
	for j, i := range idx {
		if out[i].err = errs[j]; errs[j] != nil {
			continue
		}
		fillCaptionLine(&out[i].line, descs[j], start)
	}
	return out
}
