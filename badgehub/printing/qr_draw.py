"""``QRCode.make(fit=True)`` with the mask chosen sooner: qrcode codes and places the data, this module scores.

``QRCode.make`` picks the mask the way ISO/IEC 18004 asks: it draws the symbol with each of the eight masks and
keeps the one with the fewest penalty points, module by module in Python (``qrcode.util.lost_point``). That is
three quarters of its time (about 14 ms of 18 for the offer link of an award e-mail, drawn once per e-mail).
:func:`symbol` lets qrcode do everything else as usual (version, data codewords and Reed-Solomon, placement, the
format information) and replaces only that choice: it draws the symbol once, with mask 0, scores the eight
masks on it with integers, and puts the chosen one on the data modules with an XOR.

Here the symbol is one integer: row ``r`` of an ``n``-module symbol is bits ``r * S`` to ``r * S + n - 1``
(``S = n + 1``, one light guard bit between rows), module ``c`` of a row at bit ``c``. A mask is then an XOR,
and each penalty rule a few shifts, ANDs and bit counts over the whole symbol, for rows (shift by 1) and
columns (shift by ``S``) alike. The rules and their scores are ``qrcode.util.lost_point``'s, on the symbol as
``qrcode`` scores it (format and version areas light, as its ``makeImpl(test=True)`` leaves them), and ties go
to the lowest mask as in ``QRCode.best_mask_pattern``: the chosen mask, hence the symbol and the image, are the
ones ``qrcode`` makes (tests/unit/printing/test_qr_draw.py compares the symbols over many texts, versions and
error correction levels). Whatever the score, every mask gives a symbol that decodes to the same text: a slip
here could only pick a less tidy mask, never an unreadable code.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import qrcode.main
import qrcode.util

# The 1:1:3:1:1 finder-like patterns of penalty rule 3, module 0 first (True is dark), as in qrcode.util.
_FINDER_LIKE = ((True, False, True, True, True, False, True, False, False, False, False),
                (False, False, False, False, True, False, True, True, True, False, True))


@dataclass(frozen=True)
class _Layout:
    """What does not depend on the data, for one version: where the data modules are, and the masks on them."""

    n: int
    stride: int
    data_area: int
    masks: tuple[int, ...]
    valid: dict[tuple[int, int], int]  # (length along rows or columns, 1 or stride) -> where a window may start
    first_column: int


_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _bits(modules: list[list[Any]], stride: int, *, unset: bool = False) -> int:
    """The symbol as one integer: its dark modules (or, with ``unset``, those not drawn yet)."""
    if not unset and all(module is not None for module in modules[0]):
        # A drawn symbol (every module True or False): each row read as a binary number, module 0 last.
        return sum(int(bytes(row[::-1]).translate(_DIGITS), 2) << (r * stride) for r, row in enumerate(modules))
    value = 0
    for r, row in enumerate(modules):
        line = 0
        for c, module in enumerate(row):
            if (module is None) if unset else module:
                line |= 1 << c
        value |= line << (r * stride)
    return value


def _window_starts(n: int, stride: int, length: int, step: int) -> int:
    """Positions where a window of ``length`` modules along rows (``step`` 1) or columns fits in the symbol."""
    value = 0
    for r in range(n - (length - 1 if step != 1 else 0)):
        value |= ((1 << (n - (length - 1 if step == 1 else 0))) - 1) << (r * stride)
    return value


@lru_cache(maxsize=8)
def _layout(version: int) -> _Layout:
    code = qrcode.main.QRCode(version=version, border=0)
    n = version * 4 + 17
    code.modules_count = n
    blank = [[None] * n for _ in range(n)]
    code.modules = blank
    code.setup_position_probe_pattern(0, 0)
    code.setup_position_probe_pattern(n - 7, 0)
    code.setup_position_probe_pattern(0, n - 7)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    stride = n + 1
    data_area = _bits(code.modules, stride, unset=True)
    masks = []
    for pattern in range(8):
        dark = qrcode.util.mask_func(pattern)
        masks.append(_bits([[dark(r, c) for c in range(n)] for r in range(n)], stride) & data_area)
    valid = {(length, step): _window_starts(n, stride, length, step)
             for length in (2, 5, 11) for step in (1, stride)}
    first_column = sum(1 << (r * stride) for r in range(n))
    return _Layout(n, stride, data_area, tuple(masks), valid, first_column)


def _penalty(symbol: int, layout: _Layout) -> int:
    n, stride, valid = layout.n, layout.stride, layout.valid
    full = (1 << (n * stride)) - 1
    light = ~symbol & full
    points = 0
    same = {}
    for step in (1, stride):
        equal = ~(symbol ^ (symbol >> step)) & full  # bit p: module p and the next one have one colour
        same[step] = equal
        # Rule 1: a run of L >= 5 modules of one colour scores L - 2, that is one point per window of five in
        # it (L - 4) and two per run (a window of five that starts the run).
        five = equal & (equal >> step) & (equal >> (2 * step)) & (equal >> (3 * step)) & valid[(5, step)]
        # (A window at column 0 starts its run; before row 0 there is nothing, so the shift brings zeros.)
        first = ~(equal << step) | (layout.first_column if step == 1 else 0)
        points += five.bit_count() + 2 * (five & first & full).bit_count()
        # Rule 3: each 1:1:3:1:1 pattern with four light modules on one side scores 40.
        for pattern in _FINDER_LIKE:
            found = valid[(11, step)]
            for k, dark in enumerate(pattern):
                found &= (symbol if dark else light) >> (k * step)
            points += 40 * found.bit_count()
    # Rule 2: each 2x2 block of one colour scores 3.
    block = same[1] & same[stride] & (same[stride] >> 1) & valid[(2, 1)] & valid[(2, stride)]
    points += 3 * block.bit_count()
    # Rule 4: 10 points per whole 5 % between the share of dark modules and half (qrcode's arithmetic).
    percent = float(symbol.bit_count()) / (n**2)
    return points + int(abs(percent * 100 - 50) / 5) * 10


@dataclass(frozen=True)
class Symbol:
    """A drawn symbol as one integer (module ``c`` of row ``r`` at bit ``r * stride + c``, 1 is dark), border
    not included."""

    bits: int
    n: int
    stride: int

    def row(self, r: int) -> int:
        """Row ``r``'s modules, module ``c`` at bit ``c``."""
        return (self.bits >> (r * self.stride)) & ((1 << self.n) - 1)


@lru_cache(maxsize=64)
def _format_bits(version: int, error_correction: int, mask: int) -> int:
    """The dark modules qrcode's ``makeImpl(False, mask)`` adds to the function patterns for the format and
    version information (and the dark module), drawn by qrcode itself on a blank symbol."""
    code = qrcode.main.QRCode(version=version, error_correction=error_correction, border=0)
    n = version * 4 + 17
    code.modules_count = n
    code.modules = [[None] * n for _ in range(n)]
    code.setup_type_info(False, mask)
    if version >= 7:
        code.setup_type_number(False)
    return _bits(code.modules, n + 1)


def _first_guess(code: qrcode.main.QRCode) -> int | None:
    """The version ``best_fit()`` finds on its first pass, from the data's length, without writing the data bit by
    bit (it would write it again, with wider length fields, from version 10): the bits it counts there are each
    segment's mode (4), its length in the smallest field, and its data."""
    sizes = qrcode.util.MODE_SIZE_SMALL
    needed = 0
    for data in code.data_list:
        length = len(data)
        if data.mode == qrcode.util.MODE_NUMBER:
            bits = 10 * (length // 3) + (qrcode.util.NUMBER_LENGTH[length % 3] if length % 3 else 0)
        elif data.mode == qrcode.util.MODE_ALPHA_NUM:
            bits = 11 * (length // 2) + 6 * (length % 2)
        elif data.mode == qrcode.util.MODE_8BIT_BYTE:
            bits = 8 * length
        else:
            return None  # a mode qrcode's add_data does not make: let best_fit count
        needed += 4 + sizes[data.mode] + bits
    version = bisect_left(qrcode.util.BIT_LIMIT_TABLE[code.error_correction], needed, 1)
    return version if version <= 40 else None


def symbol(code: qrcode.main.QRCode) -> Symbol:
    """The symbol ``code.make(fit=True)`` draws (same version and mask, border not included), as an integer.
    Raises ``DataOverflowError`` or ``ValueError`` (past version 40) when the data does not fit.

    qrcode fits, codes and places the data once, with mask 0 and the format areas light
    (``makeImpl(True, 0)``, the symbol it scores); the eight masks are scored here, and the chosen one is put
    on the data modules by an XOR, with the format and version information qrcode draws for it. Its own
    ``make`` would place the data again, module by module, for the chosen mask."""
    code.best_fit(start=code.version or _first_guess(code))
    code.makeImpl(True, 0)
    layout = _layout(code.version)
    unmasked = _bits(code.modules, layout.stride) ^ layout.masks[0]
    best = min(range(8), key=lambda pattern: _penalty(unmasked ^ layout.masks[pattern], layout))  # first lowest
    bits = unmasked ^ layout.masks[best] | _format_bits(code.version, code.error_correction, best)
    return Symbol(bits, layout.n, layout.stride)


def draw(code: qrcode.main.QRCode) -> Symbol:
    """``code.make(fit=True)``: the same version, mask and modules (``code.modules`` set, border not included);
    returns the :func:`symbol`. Raises as :func:`symbol` does."""
    drawn = symbol(code)
    code.modules = [[bool(line >> c & 1) for c in range(drawn.n)] for line in map(drawn.row, range(drawn.n))]
    return drawn
