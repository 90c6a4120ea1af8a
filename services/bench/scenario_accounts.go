package bench

import (
	"context"
	"fmt"
	"time"
)

// accounts registers Accounts users, then logs each in once, with
// Concurrency requests in flight.
func (e *env) accounts(ctx context.Context) error {
	n := max(e.p.Accounts, 1)
	t0 := time.Now()
	users, err := e.ds.register(ctx, "accounts: registrations", prefix("a"), n)
	if err != nil {
		return fmt.Errorf("registration: %w", err)
	}
	reg := time.Since(t0)
	p := NewProgress(e.opts.Progress, "accounts: logins", n)
	t1 := time.Now()
	err = parallel(ctx, n, e.p.Concurrency, p, func(ctx context.Context, i int) error {
		_, err := e.c.Login(ctx, users[i].Name, benchPassword)
		return err
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	login := time.Since(t1)
	e.run.Add("accounts", "registrations", float64(n)/reg.Seconds(), "accounts/s", "higher")
	e.run.Add("accounts", "logins", float64(n)/login.Seconds(), "logins/s", "higher")
	return nil
}
