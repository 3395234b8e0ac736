"""The per-worker memos (app/memo.py) never hold more than their limit and keep the newest value."""

from app.memo import BoundedMemo


def test_a_full_memo_forgets_everything_before_keeping_the_next_value():
    memo = BoundedMemo(3)
    for number in range(3):
        assert memo.keep(number, f"v{number}") == f"v{number}"
    assert len(memo) == 3

    memo.keep("new", "v")

    assert memo == {"new": "v"}
