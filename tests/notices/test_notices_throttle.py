"""The rate limit (app/notices/throttle.py) and the alert notices' words (app/notices/notice.py), with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.events import AlertRaised
from app.notices.notice import BREACH_CLOCK, CONFIGURATION_ALERT, OPERATOR_ALERT, Notice, from_alert
from app.notices.throttle import NoticeThrottle

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def alert(n: int) -> Notice:
    return Notice(OPERATOR_ALERT, "Custos: alert", f"alert number {n}")


def test_a_storm_is_one_notice_per_interval_with_the_count_of_what_was_folded_in() -> None:
    throttle = NoticeThrottle(timedelta(minutes=5))
    shown = [throttle.offer(alert(0), T0)]
    shown += [throttle.offer(alert(n), T0 + timedelta(seconds=n)) for n in range(1, 50)]
    assert [n.text for n in shown if n is not None] == ["alert number 0"]  # 49 held back
    assert throttle.held(OPERATOR_ALERT) == 49
    assert throttle.flush(T0 + timedelta(minutes=4, seconds=59)) == []  # the interval has not ended
    folded = throttle.flush(T0 + timedelta(minutes=5))
    assert len(folded) == 1
    assert folded[0].text.startswith("49 operator alerts since ") and folded[0].text.endswith("alert number 49")
    assert folded[0].title == "Custos: alert (49)"
    # The storm goes on: the next notice waits for the next interval, not for the next alert.
    assert throttle.offer(alert(50), T0 + timedelta(minutes=6)) is None
    assert throttle.flush(T0 + timedelta(minutes=9)) == []
    [one] = throttle.flush(T0 + timedelta(minutes=10))
    assert one.text == "alert number 50"  # a single held notice is shown as itself


def test_kinds_are_limited_separately() -> None:
    throttle = NoticeThrottle(timedelta(minutes=5))
    assert throttle.offer(alert(1), T0) is not None
    clock = Notice(BREACH_CLOCK, "Custos: 72-hour clock running out", "Incident #1: 23 h left")
    assert throttle.offer(clock, T0) == clock  # an alert storm never hides a breach clock


def test_a_quiet_kind_is_shown_at_once_and_a_late_arrival_carries_the_held_count() -> None:
    throttle = NoticeThrottle(timedelta(minutes=5))
    assert throttle.offer(alert(1), T0) is not None
    assert throttle.offer(alert(2), T0 + timedelta(minutes=1)) is None
    after = throttle.offer(alert(3), T0 + timedelta(minutes=7))  # no flush ran between: said together
    assert after is not None and after.text.startswith("2 operator alerts since ")
    assert throttle.flush(T0 + timedelta(minutes=20)) == []  # nothing said twice
    assert throttle.offer(alert(4), T0 + timedelta(minutes=30)) == alert(4)


def test_cleared_notices_are_never_said_later() -> None:
    throttle = NoticeThrottle(timedelta(minutes=5))
    throttle.offer(alert(1), T0)
    throttle.offer(alert(2), T0)
    throttle.clear()
    assert throttle.flush(T0 + timedelta(hours=1)) == []
    with pytest.raises(ValueError):
        NoticeThrottle(timedelta(0))


def test_an_alert_notice_says_the_rule_and_counts_never_the_summary() -> None:
    leaky = AlertRaised(7, "auth_failures", 31, "31 failures for jane.doe@example.org from 203.0.113.9", 20, 5)
    notice = from_alert(leaky)
    assert notice.kind == OPERATOR_ALERT and notice.page == "incidents"
    assert notice.text.startswith("31 authentication failures within 5 min (threshold 20).")
    assert "jane" not in notice.text + notice.title and "203.0.113" not in notice.text
    source = from_alert(AlertRaised(8, "new_token_source", 2, "token Jane's laptop used from …", 1))
    assert source.text.startswith("A token used from an address it had not used before.")
    assert "Jane" not in source.text
    odd = from_alert(AlertRaised(9, "x <b>jane@example.org</b>", 1, "?"))
    assert "@" not in odd.text and "<" not in odd.text  # an unknown rule is named by its id characters only


def test_a_configuration_alert_points_at_the_outside_the_policy_page() -> None:
    notice = from_alert(AlertRaised(3, "schema_rejections", 12, "12 …", 10, 60, configuration=True))
    assert notice.kind == CONFIGURATION_ALERT and notice.page == "outside_policy"
    assert "nothing was stored" in notice.text and "breach" not in notice.text.lower()


def test_a_vault_that_cannot_be_written_is_an_urgent_notice_in_words() -> None:
    """Before: the endpoint's new alert read "3 rule vault-unavailable. Click to review it in Incidents."."""
    from app.core.errors import VaultGone
    from app.core.events import AlertRaised

    notice = from_alert(AlertRaised(0, "vault-unavailable", 3, VaultGone("/srv/custos/custos.vault").user_message))

    assert notice.urgent and notice.kind == OPERATOR_ALERT and notice.title == "Custos: the vault is unavailable"
    assert notice.text.startswith("3 requests refused: the vault file could not be written. The vault file ")
    assert "moved, replaced or deleted" in notice.text and "rule " not in notice.text
