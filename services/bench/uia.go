package bench

import (
	"encoding/json"
	"errors"
)

// uiaSession reads the session ID of a 401 user-interactive auth answer.
func uiaSession(body string) (string, error) {
	var v struct {
		Session string `json:"session"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "", err
	}
	if v.Session == "" {
		return "", errors.New("401 without a UIA session")
	}
	return v.Session, nil
}
