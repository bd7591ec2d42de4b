"""Reminder text: Chinese templates and the SMS length rule; quiet-hours arithmetic."""

from __future__ import annotations

from datetime import datetime, time

from ledger13710.domain.policy import QuietHours
from ledger13710.domain.reminder_events import ReminderKind
from ledger13710.domain.types import SHANGHAI
from ledger13710.reminders import sms
from ledger13710.reminders.gateways.smpp import encode_parts
from ledger13710.reminders.schedule import latest_overdue, overdue_at, shift_quiet

DUE = datetime(2016, 10, 20, 23, 59, 59, tzinfo=SHANGHAI)
QUIET = QuietHours(enabled=True, start=time(22, 0), end=time(7, 0))


def test_short_text_is_one_sms_with_every_field() -> None:
    """A short reminder names unit, number, title, clock and due time in one 70-char SMS."""
    text = sms.render("before-due", unit="山西省交通运输厅", number="sx-2016-0001",
                      title="拓宽车道", clock="deploy", due=DUE)  # fmt: skip
    assert "山西省交通运输厅" in text
    assert "sx-2016-0001" in text
    assert "研究部署" in text
    assert "10月20日23:59" in text
    assert sms.parts(text) == 1


def test_long_text_splits_into_67_char_parts_up_to_max_parts() -> None:
    """Past 70 units a text is split into parts of 67; the concatenation rejoins it exactly."""
    text = "办" * 150
    chunks = sms.split(text)
    assert [len(c) for c in chunks] == [67, 67, 16]
    assert text == "".join(chunks)
    assert sms.parts(text) == 3
    assert sms.parts("办" * 70) == 1
    assert sms.parts("办" * 71) == 2


def test_overlong_title_is_shortened_and_the_rest_kept_whole() -> None:
    """A title too long for max_parts is cut with an ellipsis; number and due time survive."""
    text = sms.render("overdue", unit="山西省交通运输厅", number="sx-2016-0001",
                      title="很长的标题" * 40, clock="resolve", due=DUE, max_parts=2)  # fmt: skip
    assert sms.units(text) <= 2 * sms.PART
    assert "…" in text
    assert "sx-2016-0001" in text
    assert "10月20日23:59" in text


def test_non_bmp_characters_count_two_units_and_are_not_cut() -> None:
    """A character outside the BMP takes two UCS-2 units and stays whole across parts."""
    text = "𠀀" * 40
    assert sms.units(text) == 80
    assert text == "".join(sms.split(text))
    assert all(sms.units(c) <= sms.PART for c in sms.split(text))


def test_smpp_parts_carry_a_concatenation_header() -> None:
    """Concatenated SMPP parts start with the 6-byte UDH: 05 00 03 ref total index."""
    parts, esm = encode_parts("办" * 100, "key")
    assert esm == 0x40
    assert [(p[0], p[1], p[2], p[4], p[5]) for p in parts] == [(5, 0, 3, 2, 1), (5, 0, 3, 2, 2)]


def test_quiet_hours_shift_to_morning_or_evening() -> None:
    """Night instants go to 07:00; a before-due whose morning is past due goes to 21:59."""
    night = datetime(2016, 10, 26, 23, 59, 59, tzinfo=SHANGHAI)
    due = datetime(2016, 10, 27, 23, 59, 59, tzinfo=SHANGHAI)
    assert (night.replace(day=27, hour=7, minute=0, second=0), "morning") == shift_quiet(
        QUIET, night, due, ReminderKind.BEFORE_DUE
    )
    late = datetime(2016, 10, 20, 22, 59, 59, tzinfo=SHANGHAI)
    assert (late.replace(hour=21, minute=59, second=0), "evening") == shift_quiet(
        QUIET, late, DUE, ReminderKind.BEFORE_DUE
    )
    noon = datetime(2016, 10, 20, 12, 0, tzinfo=SHANGHAI)
    assert (noon, "") == shift_quiet(QUIET, noon, DUE, ReminderKind.BEFORE_DUE)
    assert (night, "") == shift_quiet(QuietHours(), night, due, ReminderKind.URGE)


def test_overdue_occurrences() -> None:
    """Notice k is due + 1s + (k-1) repeats; the latest due at an instant is found directly."""
    day = 86_400
    assert DUE.replace(day=21, hour=0, minute=0, second=0) == overdue_at(DUE, 1, day)
    assert latest_overdue(DUE, DUE, day) == 1
    assert latest_overdue(DUE, overdue_at(DUE, 2, day), day) == 2
    assert latest_overdue(DUE, overdue_at(DUE, 3, day).replace(hour=5), day) == 3


def test_user_text_in_an_sms_is_shown_safely() -> None:
    """A title or urge message with ESC or a bidi override reaches the phone escaped."""
    text = sms.render("urge", unit="山西省交通运输厅", number="sx-2016-0001",
                      title="拓宽\x1b[31m车道\u202e", clock="resolve", due=DUE,
                      words="请\u2066速办\x07")  # fmt: skip
    assert not any(c in text for c in "\x1b\u202e\u2066\x07")
    assert "拓宽\\x1b[31m车道\\u202e" in text
    assert "请\\u2066速办\\x07" in text
