package queue

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

const (
	envChildDir = "HEARTH_QUEUE_KILL_DIR"
	envChildURL = "HEARTH_QUEUE_KILL_URL"
)

// TestKill9BetweenSendAndAck kills a process with SIGKILL while its
// transaction is at the receiver, unanswered. The next process resends it
// with the same txn ID and body, then the rest.
func TestKill9BetweenSendAndAck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	rc, srv := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 0 {
			return false
		}
		<-r.Context().Done() // the sender dies waiting
		return true
	})
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildDir+"="+dir, envChildURL+"="+srv.URL)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := rc.wait(t)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	db := openDB(t, dir)
	t.Cleanup(func() { db.Close() })
	q := newQueue(t, db, httpSender{srv.URL, srv.Client()}, newFakeClock(), nil)
	if n, _ := q.Pending("r.example"); n != 60 {
		t.Fatalf("pending after kill = %d, want 60", n)
	}
	q.Start(context.Background())
	if again := rc.wait(t); again != first {
		t.Fatalf("after the kill sent %s, want %s again", again, first)
	}
	rc.wait(t)
	waitFor(t, "queue to empty", func() bool { n, _ := q.Pending("r.example"); return n == 0 })
	reqs := rc.requests()
	if len(reqs) != 3 || string(reqs[0].body) != string(reqs[1].body) {
		t.Fatalf("%d requests; resent body identical: %v", len(reqs), len(reqs) > 1 && string(reqs[0].body) == string(reqs[1].body))
	}
	if ids := parseTxn(t, reqs[2].body).eventIDs(); len(ids) != 10 || ids[0] != "$ev50" {
		t.Errorf("last transaction %v", ids)
	}
}

// TestKill9Child is the process TestKill9BetweenSendAndAck kills.
func TestKill9Child(t *testing.T) {
	dir, u := os.Getenv(envChildDir), os.Getenv(envChildURL)
	if dir == "" {
		t.Skip("only runs as TestKill9BetweenSendAndAck's child")
	}
	db := openDB(t, dir)
	q, err := New(Options{DB: db, Origin: origin, Sender: httpSender{u, http.DefaultClient}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if err := q.EnqueuePDU([]string{"r.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	q.Start(context.Background())
	time.Sleep(time.Minute) // killed long before
	t.Error("not killed")
}
