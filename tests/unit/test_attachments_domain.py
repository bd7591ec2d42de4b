"""Evidence attachments in the domain: the policy's limits, the item's tally, erasure."""

from __future__ import annotations

import pytest
from domain_helpers import PHOTO, assigned, drive_to, erase_photo, perform, replay

from ledger13710.config.policies import load_builtin_policy
from ledger13710.domain import events as ev
from ledger13710.domain.attachments import (
    MIB,
    AttachmentRules,
    check_file,
    check_for_item,
)
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.domain.policy import parse_policy
from ledger13710.domain.state import State

RULES = AttachmentRules(max_file_bytes=100, max_item_bytes=250, max_item_files=3)


def att(n: int, size: int = 10, media_type: str = "application/pdf") -> ev.Attachment:
    """A described file ``f<n>.pdf`` whose hash is made of ``n``."""
    return ev.Attachment(name=f"f{n}.pdf", media_type=media_type, size=size, sha256=f"{n:064x}")


def test_builtin_policies_allow_images_pdf_and_office_documents() -> None:
    """Both built-in policies carry the same limits as the code's defaults."""
    for name in ("13710-v1", "13710-v1-working"):
        rules = load_builtin_policy(name).attachments
        assert AttachmentRules() == rules
        assert {"image/jpeg", "application/pdf", "application/msword"} <= set(rules.media_types)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (att(1, size=101), r"^attachment f1.pdf is 101 bytes, over the policy's limit of 100 "),
        (att(1, media_type="application/x-msdownload"),
         r"^attachment f1.pdf: type application/x-msdownload is not allowed; the policy allows"),
        (ev.Attachment(name="../x.pdf", media_type="application/pdf", size=1, sha256="0" * 64),
         r"^attachment name '../x.pdf' must be a plain file name$"),
        (ev.Attachment(name="x.pdf", media_type="application/pdf", size=1, sha256="XYZ"),
         r"^attachment x.pdf: 'XYZ' is not a SHA-256 in hex$"),
    ],
)  # fmt: skip
def test_a_file_breaking_the_rules_is_refused_by_name(bad: ev.Attachment, message: str) -> None:
    """Size over the per-file limit, a type not listed, a path or a bad hash: one clear line."""
    with pytest.raises(InputError, match=message):
        check_file(bad, RULES)


def test_item_limits_count_distinct_files_and_their_total_size() -> None:
    """The same content twice counts once; a fourth file or 260 bytes in all is refused."""
    present = {att(1).sha256: 100, att(2).sha256: 100}
    check_for_item(present, {}, [att(1, 100), att(3, 50)], RULES)
    with pytest.raises(InputError, match="at most 3 attachments; this would make 4"):
        check_for_item(present, {}, [att(3), att(4)], RULES)
    with pytest.raises(InputError, match="total at most 250 bytes; this would make 260 bytes"):
        check_for_item(present, {}, [att(3, 60)], RULES)


def test_content_erased_from_an_item_cannot_be_attached_to_it_again() -> None:
    """Re-attaching erased bytes would undo the decision; the refusal names the decision."""
    with pytest.raises(InputError, match="erased from this item by decision D-7"):
        check_for_item({}, {att(1).sha256: "D-7"}, [att(1)], RULES)


def test_attachments_section_of_a_policy_file_is_validated() -> None:
    """``[attachments]`` with a zero limit or an empty type list is a named config error."""
    base = load_builtin_policy("13710-v1")
    assert base.attachments.max_file_bytes == 20 * MIB
    text = (
        'version = "t1"\nname = "t"\nday_basis = "calendar"\n'
        '[deploy]\nremind_before = "5h"\n[feedback]\ndays = 3\nremind_before = "5h"\n'
        '[resolve_general]\ndays = 7\nremind_before = "24h"\n'
        '[resolve_major]\nmonths = 1\nremind_before = "48h"\n'
        '[resolve_complex]\nmonths = 1\nremind_before = "48h"\n'
    )
    small = parse_policy(text + "[attachments]\nmax_file_mb = 1\nmax_item_mb = 2\n", "p.toml")
    expected = (MIB, 2 * MIB)
    assert expected == (small.attachments.max_file_bytes, small.attachments.max_item_bytes)
    with pytest.raises(ConfigError, match=r"^p.toml: attachments.max_item_files: must be"):
        parse_policy(text + "[attachments]\nmax_item_files = 0\n", "p.toml")
    with pytest.raises(ConfigError, match=r"^p.toml: attachments.media_types: list at least"):
        parse_policy(text + "[attachments]\nmedia_types = []\n", "p.toml")


def test_evolve_tallies_the_items_evidence_and_its_erasure() -> None:
    """Stored files are tallied by hash with their size; erasure moves one to ``erased``."""
    sc = drive_to(State.RESOLVED)
    assert {PHOTO.sha256: PHOTO.size} == sc.state.evidence
    perform(sc, "close-out")
    erase_photo(sc)
    assert ({}, {PHOTO.sha256: "晋政办〔2016〕9号"}) == (sc.state.evidence, sc.state.erased)
    erased = sc.flush()[-1]
    assert isinstance(erased, ev.AttachmentErased)
    assert (PHOTO.sha256, "a bystander's face") == (erased.sha256, erased.reason)
    assert sc.state.erased == replay(sc.history).erased


def test_erasing_twice_records_once_and_a_stranger_hash_is_refused() -> None:
    """The second erasure emits nothing (the bytes may still need deleting); unknown is named."""
    sc = drive_to(State.RESOLVED)
    erase_photo(sc)
    sc.flush()
    again = sc.item.erase_attachment(
        sha256=PHOTO.sha256, decision="D", reason="r", now=sc.tick(),
        actor="x", unit=sc.state.raising_unit,
    )  # fmt: skip
    nothing: tuple[bool, list[ev.ItemEvent]] = (False, [])
    assert nothing == (again, sc.flush())
    with pytest.raises(InputError, match=f"no attachment with SHA-256 {'cd' * 32}"):
        sc.item.erase_attachment(
            sha256="cd" * 32, decision="D", reason="r", now=sc.tick(), actor="x",
            unit=sc.state.raising_unit,
        )  # fmt: skip


def test_only_the_raising_side_may_erase_evidence() -> None:
    """The lead unit, who attached the photo, cannot erase it."""
    sc = drive_to(State.RESOLVED)
    with pytest.raises(InputError, match="erase an attachment"):
        sc.item.erase_attachment(
            sha256=PHOTO.sha256, decision="D", reason="r", now=sc.tick(), actor="x",
            unit=sc.state.lead_unit,
        )  # fmt: skip


def test_an_erasure_needs_a_decision_and_a_reason() -> None:
    """A blank decision reference is refused; nothing is emitted."""
    sc = assigned()
    perform(sc, "deploy")
    sc.item.feedback(content="c", attachments=(PHOTO,), now=sc.tick(), actor="o",
                     unit=sc.state.lead_unit)  # fmt: skip
    sc.flush()
    with pytest.raises(InputError, match="missing the erasure decision's reference"):
        sc.item.erase_attachment(
            sha256=PHOTO.sha256, decision=" ", reason="r", now=sc.tick(), actor="x",
            unit=sc.state.raising_unit,
        )  # fmt: skip
    assert not sc.flush()
