"""Log-in throttling that a stranger cannot turn against a user: per-account backoff with a
cap, per-address limits across names, known devices judged by their own failures, an
admin's unlock. Real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dangan.archive import login
from dangan.archive.users import add_user

pytestmark = pytest.mark.database
PASSWORD = "correct horse battery"


@pytest.fixture
def alice(db):
    with db.session() as s:
        add_user(s, "alice", PASSWORD, "staff", actor="test")
        add_user(s, "bob", PASSWORD, "staff", actor="test")
    return db


def attempt(db, name, password, client, device=None):
    with db.session() as s:
        return login.authenticate(s, name, password, client, device)


def failures(db, name, client, n, device=""):
    """N failed log-ins on NAME just now (as if someone kept trying through the waits)."""
    with db.session() as s:
        for _ in range(n):
            s.add(login.LoginFailure(name=name, client=client, device=device))


def test_after_five_failures_an_unknown_browser_waits_twice_as_long_each_time_up_to_a_cap(alice):
    for _ in range(login.ACCOUNT_FREE_FAILURES):
        assert attempt(alice, "alice", "wrong", "10.0.0.9").user is None
    with pytest.raises(login.LoginThrottled) as e:
        attempt(alice, "alice", PASSWORD, "10.0.0.7")  # any unknown browser, any address
    assert 1 <= e.value.retry_after <= login.BACKOFF_START.total_seconds()
    with alice.session() as s:
        last = s.query(login.LoginFailure).order_by(login.LoginFailure.id.desc()).first().at
        waits = []
        for extra in range(12):  # pretend failures kept coming right after each wait
            s.add(login.LoginFailure(name="alice", client="10.0.0.9", at=last))
            s.flush()
            waits.append(login.throttle_wait(s, "alice", "10.0.0.7", now=last)[0])
    assert waits == sorted(waits) and waits[0] >= 4 and waits[-1] == login.BACKOFF_CAP.total_seconds()


def test_a_stranger_failing_on_a_name_does_not_slow_the_user_on_their_own_browser(alice):
    with alice.session() as s:
        user = login.authenticate(s, "alice", PASSWORD, "10.1.1.1").user
        device = login.remember_device(s, user, None)
    failures(alice, "alice", "203.0.113.5", login.ACCOUNT_FREE_FAILURES + 3)
    with pytest.raises(login.LoginThrottled):
        attempt(alice, "alice", PASSWORD, "10.1.1.1")  # a new browser: backoff applies
    done = attempt(alice, "alice", PASSWORD, "10.1.1.1", device)  # her own browser: not slowed
    assert done.user is not None and done.device
    # a device token of another user's browser counts for nothing here
    assert attempt(alice, "bob", PASSWORD, "10.1.1.1", device).device == ""


def test_one_password_tried_across_many_names_from_one_address_is_stopped(alice):
    for i in range(login.ADDRESS_FAILURES):  # each name fails once: no account is slowed
        assert attempt(alice, f"user{i}", "Spring2026!", "198.51.100.7").reason == "unknown user"
    with pytest.raises(login.LoginThrottled) as e:
        attempt(alice, "bob", PASSWORD, "198.51.100.7")
    assert e.value.address and "from this address" in str(e.value)
    assert attempt(alice, "bob", PASSWORD, "198.51.100.8").user is not None  # elsewhere: fine


def test_an_admins_unlock_lets_the_user_in_at_once_and_old_failures_expire(alice):
    failures(alice, "alice", "10.0.0.9", login.ACCOUNT_FREE_FAILURES + 2)
    with alice.session() as s:
        assert login.lock_state(s, "alice")[1] > 0
        assert login.unlock(s, "alice") == login.ACCOUNT_FREE_FAILURES + 2
        assert login.lock_state(s, "alice") == (0, 0)
    assert attempt(alice, "alice", PASSWORD, "10.0.0.9").user is not None
    failures(alice, "alice", "10.0.0.9", login.ACCOUNT_FREE_FAILURES + 2)
    with alice.session() as s:
        later = login.utcnow() + login.THROTTLE_WINDOW + timedelta(seconds=1)
        assert login.throttle_wait(s, "alice", "10.0.0.9", now=later) == (0, False)
        login.forget_old_failures(s, later)
        assert s.query(login.LoginFailure).count() == 0


def test_a_disabled_user_or_unknown_name_fails_like_a_wrong_password(alice):
    from dangan.archive.users import disable_user

    with alice.session() as s:
        disable_user(s, "bob", actor="test")
    assert attempt(alice, "bob", PASSWORD, "10.0.0.1").reason == "disabled"
    assert attempt(alice, "nobody", PASSWORD, "10.0.0.1").reason == "unknown user"
    assert attempt(alice, "alice", "nope", "10.0.0.1").reason == "wrong password"
