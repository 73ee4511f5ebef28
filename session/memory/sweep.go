package memory

import "time"

// sweep drops every expired entry, at most once per sweepInterval. Reads
// already refuse expired entries; the sweep only returns their memory, so
// keys that are written once and never read again (a counter per attacker
// address, a replay-cache claim) do not pile up. It runs on writes, the only
// calls that make the maps grow. The caller holds s.mu.
func (s *Store) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepInterval)
	for key, r := range s.records {
		if !now.Before(r.expires) {
			s.remove(key)
		}
	}
	for key, c := range s.counters {
		if !now.Before(c.expires) {
			delete(s.counters, key)
		}
	}
	for key, expires := range s.claims {
		if !now.Before(expires) {
			delete(s.claims, key)
		}
	}
}
