package config

import "log/slog"

// SlogLevel returns Level as a log/slog level. An empty or unknown level
// (which Validate reports) is slog.LevelInfo.
func (l LogConfig) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
