"""Drawing a ``qrcode`` symbol as ``qrcode`` does, on whole symbols at once: the same modules, 10 times sooner.

``QRCode.make`` codes the data (bit by bit), computes the error correction (with polynomial objects), then
picks the mask the way ISO/IEC 18004 asks: it draws the symbol with each of the eight masks and keeps the one
with the fewest penalty points, module by module in Python. That is about 14 ms for the offer link of an award
e-mail, drawn once per e-mail: most of an e-mail's cost in a batch of thousands. :func:`draw` does the same
steps with integers: the data bits in one integer, Reed-Solomon with log tables, each data bit put at its place
(the places of each version computed once), and the masks and penalties as below.

Here the symbol is one integer: row ``r`` of an ``n``-module symbol is bits ``r * S`` to ``r * S + n - 1``
(``S = n + 1``, one light guard bit between rows), module ``c`` of a row at bit ``c``. A mask is then an XOR,
and each penalty rule a few shifts, ANDs and bit counts over the whole symbol, for rows (shift by 1) and
columns (shift by ``S``) alike. The rules and their scores are ``qrcode.util.lost_point``'s, on the symbol as
``qrcode`` scores it (format and version areas light, as its ``makeImpl(test=True)`` leaves them), and ties go
to the lowest mask as in ``QRCode.best_mask_pattern``: the chosen mask, hence the symbol and the image, are the
ones ``qrcode`` makes (tests/unit/printing/test_qr_draw.py compares the symbols over many texts, versions and
error correction levels).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import qrcode.base
import qrcode.exceptions
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
    fixed: int  # the dark modules of the finder, timing and alignment patterns (format areas light)
    places: tuple[int, ...]  # the bit of each data module, in the order the data fills them


def _bits(modules: list[list[Any]], stride: int, *, unset: bool = False) -> int:
    """The symbol as one integer: its dark modules (or, with ``unset``, those not drawn yet)."""
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
    return _Layout(n, stride, data_area, tuple(masks), valid, first_column, _bits(code.modules, stride),
                   tuple(_places(code.modules, stride)))


def _places(modules: list[list[Any]], stride: int) -> list[int]:
    """The data modules in the order ``QRCode.map_data`` fills them: two columns at a time from the right, up
    then down, skipping the vertical timing column."""
    n = len(modules)
    places = []
    upward = True
    for right in range(n - 1, 0, -2):
        if right <= 6:
            right -= 1
        for row in range(n - 1, -1, -1) if upward else range(n):
            for column in (right, right - 1):
                if modules[row][column] is None:
                    places.append(row * stride + column)
        upward = not upward
    return places


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


class _Bits:
    """The ``put`` of ``qrcode.util.BitBuffer`` (what ``QRData.write`` calls), into one integer."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, number: int, length: int) -> None:
        self.value = (self.value << length) | (number & ((1 << length) - 1))
        self.length += length


_EXP = [0] * 512
_LOG = [0] * 256
for _i in range(255):
    _EXP[_i] = _EXP[_i + 255] = qrcode.base.gexp(_i)
    _LOG[_EXP[_i]] = _i


@lru_cache(maxsize=64)
def _generator(count: int) -> tuple[int, ...]:
    """The logs of the Reed-Solomon generator's coefficients after the leading 1 (``count`` symbols)."""
    polynomial = [1]
    for i in range(count):  # (x - a^0)(x - a^1)...: qrcode.util's rsPoly
        shifted = zip([*polynomial, 0], [0, *polynomial], strict=True)
        polynomial = [a ^ (_EXP[_LOG[b] + i] if b else 0) for a, b in shifted]
    return tuple(_LOG[c] for c in polynomial[1:])


def _correction(data: list[int], count: int) -> list[int]:
    logs = _generator(count)
    remainder = [0] * count
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            log = _LOG[factor]
            remainder = [r ^ _EXP[log + g] for r, g in zip(remainder, logs, strict=True)]
    return remainder


def codewords(code: qrcode.main.QRCode) -> list[int]:
    """``qrcode.util.create_data`` for ``code`` (its version set): the data and error correction codewords,
    interleaved. Raises ``DataOverflowError``."""
    version = code.version
    bits = _Bits()
    for segment in code.data_list:
        bits.put(segment.mode, 4)
        bits.put(len(segment), qrcode.util.length_in_bits(segment.mode, version))
        segment.write(bits)
    blocks = qrcode.base.rs_blocks(version, code.error_correction)
    limit = sum(block.data_count * 8 for block in blocks)
    if bits.length > limit:
        raise qrcode.exceptions.DataOverflowError("Code length overflow.")
    # Up to four 0s, then 0s to a whole byte, then the pad bytes 0xEC 0x11 alternately.
    bits.put(0, min(limit - bits.length, 4))
    bits.put(0, -bits.length % 8)
    stream = list(bits.value.to_bytes(bits.length // 8, "big")) if bits.length else []
    stream += [qrcode.util.PAD0 if i % 2 == 0 else qrcode.util.PAD1 for i in range((limit - bits.length) // 8)]
    data, correction, offset = [], [], 0
    for block in blocks:
        part = stream[offset:offset + block.data_count]
        offset += block.data_count
        data.append(part)
        correction.append(_correction(part, block.total_count - block.data_count))
    out = [part[i] for i in range(max(map(len, data))) for part in data if i < len(part)]
    out += [part[i] for i in range(max(map(len, correction))) for part in correction if i < len(part)]
    return out


def _fit(code: qrcode.main.QRCode, start: int | None) -> None:
    """``code.best_fit(start)``: the smallest version the data fits in, from ``start`` on."""
    first = start or 1
    qrcode.util.check_version(first)
    sizes = qrcode.util.mode_sizes_for_version(first)
    bits = _Bits()
    for segment in code.data_list:
        bits.put(segment.mode, 4)
        bits.put(len(segment), sizes[segment.mode])
        segment.write(bits)
    version = bisect_left(qrcode.util.BIT_LIMIT_TABLE[code.error_correction], bits.length, first)
    if version == 41:
        raise qrcode.exceptions.DataOverflowError()
    code.version = version
    if sizes is not qrcode.util.mode_sizes_for_version(version):
        _fit(code, version)


def draw(code: qrcode.main.QRCode) -> None:
    """``code.make(fit=True)``: the same version, mask and modules (``code.modules`` set, border not included).
    Raises ``DataOverflowError`` or ``ValueError`` (past version 40) when the data does not fit."""
    _fit(code, code.version)
    layout = _layout(code.version)
    data = codewords(code)
    code.data_cache = data
    stream = int.from_bytes(bytes(data), "big")
    total = len(data) * 8
    unmasked = layout.fixed
    for index, place in enumerate(layout.places[:total]):
        if (stream >> (total - 1 - index)) & 1:
            unmasked |= 1 << place
    best, lowest = 0, -1
    for pattern, mask in enumerate(layout.masks):
        points = _penalty(unmasked ^ mask, layout)
        if pattern == 0 or points < lowest:
            best, lowest = pattern, points
    symbol = unmasked ^ layout.masks[best]
    n, stride = layout.n, layout.stride
    code.modules_count = n
    code.modules = [[bool((symbol >> (r * stride + c)) & 1) for c in range(n)] for r in range(n)]
    code.setup_type_info(False, best)
    if code.version >= 7:
        code.setup_type_number(False)

