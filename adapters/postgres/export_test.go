package postgres

// Die stops s as a killed process would: no more heartbeats, connections
// dropped, its lease left to run out.
func (s *Store) Die() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	if s.lock != nil {
		s.lock.Release()
		s.lock = nil
	}
	s.mu.Unlock()
	s.pool.Close()
}
