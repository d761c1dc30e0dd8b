package bot

import (
	"container/list"
	"sync"
	"time"
)

// descCache keeps photos' raw descriptions for a while, so Regenerate and the
// network buttons re-run only the refiner. It is a small LRU with expiry:
// a hand-written one because it is a few lines and needs no eviction policy
// beyond "oldest first".
type descCache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	items map[string]*list.Element
	order *list.List // front = most recently used
}

type cacheEntry struct {
	key     string
	desc    Description
	expires time.Time
}

func newDescCache(ttl time.Duration, max int) *descCache {
	if max <= 0 {
		max = 4096
	}
	return &descCache{ttl: ttl, max: max, items: map[string]*list.Element{}, order: list.New()}
}

// cacheKey is the job's photo key scoped by platform; "" means uncached.
func cacheKey(job Job) string {
	if job.PhotoKey == "" {
		return ""
	}
	return job.Platform + ":" + job.PhotoKey
}

func (c *descCache) get(key string, now time.Time) (Description, bool) {
	if key == "" {
		return Description{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return Description{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return Description{}, false
	}
	c.order.MoveToFront(el)
	return e.desc, true
}

func (c *descCache) put(key string, d Description, now time.Time) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.desc, e.expires = d, now.Add(c.ttl)
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, desc: d, expires: now.Add(c.ttl)})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

func (c *descCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
