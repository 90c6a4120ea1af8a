package users

// Internals exposed to the external tests.

// CacheLen is the number of cached access tokens.
func (s *Service) CacheLen() int { return s.cache.len() }

// ParsePHC exposes the PHC parser to the fuzz target.
func ParsePHC(s string) error {
	_, err := parsePHC(s)
	return err
}
