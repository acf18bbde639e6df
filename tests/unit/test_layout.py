"""The package's layout rule: no module of badgehub/ over 600 lines (STYLE.md, issue 19). A module that grows past
it is split on its seams rather than allowed to grow; this test names the ones that did."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 600
PACKAGE = Path(__file__).resolve().parents[2] / "badgehub"


def test_no_module_is_over_600_lines() -> None:
    sizes = {path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for path in sorted(PACKAGE.rglob("*.py"))}
    assert len(sizes) > 100, "the package was not found"
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert too_long == {}, f"split these modules on their seams (at most {MAX_LINES} lines): {too_long}"
