package bot

// Queued returns the number of photos waiting for a captioning worker, for
// a queue-depth metric; zero before Start.
func (s *Service) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
