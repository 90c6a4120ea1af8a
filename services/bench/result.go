package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Figure is one measured number.
type Figure struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Better is "lower" or "higher".
	Better string `json:"better,omitempty"`
}

// Skip records a scenario (or part of one) that was not measured, and why.
type Skip struct {
	Scenario string `json:"scenario"`
	Reason   string `json:"reason"`
}

// Run is one benchmark run: what was measured where, with which
// parameters.
type Run struct {
	Started time.Time  `json:"started"`
	Seconds float64    `json:"seconds"`
	Server  ServerInfo `json:"server"`
	Machine Machine    `json:"machine"`
	Params  Params     `json:"params"`
	Figures []Figure   `json:"figures"`
	Skipped []Skip     `json:"skipped,omitempty"`
}

// ServerInfo names the server under test.
type ServerInfo struct {
	Label   string   `json:"label"`
	URL     string   `json:"url"`
	Name    string   `json:"server_name,omitempty"`
	Version string   `json:"version,omitempty"`
	Command []string `json:"command,omitempty"`
}

// Add appends a figure.
func (r *Run) Add(scenario, name string, value float64, unit, better string) {
	r.Figures = append(r.Figures, Figure{Scenario: scenario, Name: name, Value: value, Unit: unit, Better: better})
}

// Skip records that scenario was not (fully) measured.
func (r *Run) Skip(scenario, reason string) {
	r.Skipped = append(r.Skipped, Skip{Scenario: scenario, Reason: reason})
}

// maxRunFileBytes bounds a result file read back for compare.
const maxRunFileBytes = 16 << 20

// maxFigures bounds the figures of a parsed run.
const maxFigures = 10000

// WriteFile writes the run as indented JSON.
func (r *Run) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ParseRun decodes a run written by WriteFile.
func ParseRun(b []byte) (*Run, error) {
	if len(b) > maxRunFileBytes {
		return nil, errors.New("run file too large")
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding run: %w", err)
	}
	if len(r.Figures) > maxFigures {
		return nil, errors.New("run has too many figures")
	}
	return &r, nil
}

// ReadRunFile reads and parses a run file.
func ReadRunFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxRunFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxRunFileBytes)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := ParseRun(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
