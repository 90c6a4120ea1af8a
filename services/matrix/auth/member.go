package auth

import (
	"strconv"
	"strings"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// member applies rule 5 (m.room.member; rule 4 in v6–v11).
func (c *checker) member() error {
	v, ev := c.v, c.ev
	target, isState := ev.StateKey()
	if !isState {
		return reject(v, "5.1", "m.room.member has no state_key")
	}
	mval := ev.Content().Get("membership")
	if !mval.Exists() {
		return reject(v, "5.1", "m.room.member content has no membership")
	}
	if err := c.authorisedViaSigned(); err != nil {
		return err
	}
	membership, _ := mval.Str()
	switch {
	case membership == "join":
		return c.join(target)
	case membership == "invite":
		return c.invite(target)
	case membership == "leave":
		return c.leave(target)
	case membership == "ban":
		return c.ban(target)
	case membership == "knock" && v.Knocking:
		return c.knock(target)
	}
	return reject(v, "5.8", "unknown membership %s", mval)
}

// authorisedViaSigned applies rule 5.2 (v8+): if content has
// join_authorised_via_users_server, the event must be signed by that user's
// server. The rule applies whatever the membership.
//
// Allowed only checks that ev.signatures holds an ed25519 signature from that
// server. Whether the signature verifies is checked when the PDU is received,
// before the auth rules (pdu.RequiredSigners and pdu.VerifySignatures), since
// that needs the server's keys. For that to cover this rule, RequiredSigners
// must name the authorising server for every membership carrying the key,
// not only for joins.
func (c *checker) authorisedViaSigned() error {
	if !c.v.Restricted {
		return nil
	}
	via := c.ev.Content().Get("join_authorised_via_users_server")
	if !via.Exists() {
		return nil
	}
	user, ok := via.Str()
	if !ok || !validUserID(user) {
		return reject(c.v, "5.2", "join_authorised_via_users_server %s is not a user ID", via)
	}
	server := pdu.Domain(user)
	for _, sig := range c.ev.Object().Path("signatures", server).Members() {
		if strings.HasPrefix(sig.Key, "ed25519:") {
			return nil
		}
	}
	return reject(c.v, "5.2", "event is not signed by %q, the server of join_authorised_via_users_server", server)
}

// join applies rule 5.3.
func (c *checker) join(target string) error {
	v, ev := c.v, c.ev
	if prev := ev.PrevEvents(); len(prev) == 1 && prev[0] == c.create.ID() {
		if creator := power.Creator(v, c.create); creator != "" && target == creator {
			return nil // 5.3.1: the creator's first join
		}
	}
	sender := ev.Sender()
	if sender != target {
		return reject(v, "5.3.2", "sender %s cannot join for %s", sender, target)
	}
	current := c.membership(sender)
	if current == "ban" {
		return reject(v, "5.3.3", "sender is banned")
	}
	rule := c.joinRule()
	switch {
	case rule == "invite" || (rule == "knock" && v.Knocking):
		if current == "invite" || current == "join" {
			return nil // 5.3.4
		}
		return reject(v, "5.3.7", "join rule is %s and sender is neither invited nor joined", rule)
	case rule == "restricted" && v.Restricted, rule == "knock_restricted" && v.KnockRestricted:
		return c.restrictedJoin(current, rule)
	case rule == "public":
		return nil // 5.3.6
	}
	return reject(v, "5.3.7", "join rule %q does not allow joining", rule)
}

// restrictedJoin applies rule 5.3.5: a member or invitee may join; anyone
// else needs join_authorised_via_users_server naming a joined user whose power
// level reaches the invite level. Whether the joining user satisfies the allow
// conditions is for the authorising server to decide; the rules only check it
// vouched.
func (c *checker) restrictedJoin(current, rule string) error {
	if current == "join" || current == "invite" {
		return nil // 5.3.5.1
	}
	via, ok := c.ev.Content().Get("join_authorised_via_users_server").Str()
	if !ok {
		return reject(c.v, "5.3.5.2", "join rule is %s and no join_authorised_via_users_server is given", rule)
	}
	if c.membership(via) != "join" {
		return reject(c.v, "5.3.5.2", "authorising user %s is not joined", via)
	}
	if lvl := c.levels.User(via); lvl < c.levels.Invite {
		return reject(c.v, "5.3.5.2", "authorising user %s has power level %d, below the invite level %d", via, lvl, c.levels.Invite)
	}
	return nil // 5.3.5.3
}

// invite applies rule 5.4.
func (c *checker) invite(target string) error {
	v, ev := c.v, c.ev
	if tpi := ev.Content().Get("third_party_invite"); tpi.Exists() {
		return c.thirdPartyInvite(target, tpi)
	}
	sender := ev.Sender()
	if c.membership(sender) != "join" {
		return reject(v, "5.4.2", "sender is not joined")
	}
	if m := c.membership(target); m == "join" || m == "ban" {
		return reject(v, "5.4.3", "target's membership is %s", m)
	}
	if lvl := c.levels.User(sender); lvl < c.levels.Invite {
		return reject(v, "5.4.5", "sender's power level %d is below the invite level %d", lvl, c.levels.Invite)
	}
	return nil // 5.4.4
}

// leave applies rule 5.5.
func (c *checker) leave(target string) error {
	v, ev := c.v, c.ev
	sender := ev.Sender()
	if sender == target {
		switch m := c.membership(sender); {
		case m == "invite", m == "join", m == "knock" && v.Knocking:
			return nil
		default:
			return reject(v, "5.5.1", "sender cannot leave from membership %q", m)
		}
	}
	if c.membership(sender) != "join" {
		return reject(v, "5.5.2", "sender is not joined")
	}
	senderLevel, targetLevel := c.levels.User(sender), c.levels.User(target)
	if c.membership(target) == "ban" && senderLevel < c.levels.Ban {
		return reject(v, "5.5.3", "unbanning needs the ban level %d, sender has %d", c.levels.Ban, senderLevel)
	}
	if senderLevel >= c.levels.Kick && targetLevel < senderLevel {
		return nil // 5.5.4
	}
	return reject(v, "5.5.5", "kicking needs the kick level %d and more power than the target (%s), sender has %s",
		c.levels.Kick, levelString(targetLevel), levelString(senderLevel))
}

// ban applies rule 5.6.
func (c *checker) ban(target string) error {
	v, ev := c.v, c.ev
	sender := ev.Sender()
	if c.membership(sender) != "join" {
		return reject(v, "5.6.1", "sender is not joined")
	}
	senderLevel, targetLevel := c.levels.User(sender), c.levels.User(target)
	if senderLevel >= c.levels.Ban && targetLevel < senderLevel {
		return nil // 5.6.2
	}
	return reject(v, "5.6.3", "banning needs the ban level %d and more power than the target (%s), sender has %s",
		c.levels.Ban, levelString(targetLevel), levelString(senderLevel))
}

// knock applies rule 5.7 (v7+).
func (c *checker) knock(target string) error {
	v, ev := c.v, c.ev
	rule := c.joinRule()
	if !(rule == "knock" || rule == "knock_restricted" && v.KnockRestricted) {
		return reject(v, "5.7.1", "join rule %q does not allow knocking", rule)
	}
	if ev.Sender() != target {
		return reject(v, "5.7.2", "sender %s cannot knock for %s", ev.Sender(), target)
	}
	switch m := c.membership(target); m {
	case "ban", "invite", "join":
		return reject(v, "5.7.4", "cannot knock from membership %s", m)
	}
	return nil // 5.7.3
}

// levelString prints a power level, "infinite" for a v12 creator.
func levelString(n int64) string {
	if n == power.Infinite {
		return "infinite"
	}
	return strconv.FormatInt(n, 10)
}
