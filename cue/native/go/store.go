package main

import (
	"container/list"
	"sync"
)

// lru is a map that forgets its least recently used entries beyond max. Not safe for concurrent use.
type lru[V any] struct {
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru[V]) get(key string) (V, bool) {
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruEntry[V]).value, true
	}
	var zero V
	return zero, false
}

func (l *lru[V]) put(key string, value V) {
	if e, ok := l.items[key]; ok {
		e.Value.(*lruEntry[V]).value = value
		l.order.MoveToFront(e)
		return
	}
	l.items[key] = l.order.PushFront(&lruEntry[V]{key, value})
	for l.order.Len() > l.max {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(*lruEntry[V]).key)
	}
}

// sourceStore holds template sources by hash for all workers (each compiles what it needs).
type sourceStore struct {
	mu      sync.Mutex
	sources *lru[string]
}

func newSourceStore(max int) *sourceStore {
	return &sourceStore{sources: newLRU[string](max)}
}

func (s *sourceStore) put(key, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources.put(key, source)
}

func (s *sourceStore) get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources.get(key)
}
