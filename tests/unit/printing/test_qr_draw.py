"""qr_draw.draw makes the symbol qrcode's own QRCode.make makes: same version, codewords, mask and modules."""

from __future__ import annotations

from bisect import bisect_left

import pytest
import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.util
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.printing.qr_draw import _bits, _first_guess, _layout, _penalty, draw

LEVELS = [qrcode.constants.ERROR_CORRECT_L, qrcode.constants.ERROR_CORRECT_M, qrcode.constants.ERROR_CORRECT_Q,
          qrcode.constants.ERROR_CORRECT_H]
# Digits and the alphanumeric set make qrcode choose its other modes (and mixed segments in one text).
TEXTS = st.one_of(
    st.text(max_size=400),
    st.text(alphabet="0123456789", max_size=900),
    st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=700),
    st.text(alphabet="0123456789ABCDEF:/?=&%abc", max_size=600),
)


def _pair(text: str, level: int) -> tuple[qrcode.QRCode, qrcode.QRCode]:
    made = qrcode.QRCode(error_correction=level, border=0)
    drawn = qrcode.QRCode(error_correction=level, border=0)
    made.add_data(text)
    drawn.add_data(text)
    return made, drawn


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, level=st.sampled_from(LEVELS))
def test_draw_makes_the_symbol_qrcode_makes(text: str, level: int) -> None:
    made, drawn = _pair(text, level)
    made.make(fit=True)
    draw(drawn)
    assert drawn.version == made.version
    assert drawn.data_cache == made.data_cache
    assert drawn.modules == made.modules


@pytest.mark.parametrize("version", [1, 2, 6, 7, 10, 14, 20, 27, 40])
def test_each_mask_scores_what_qrcode_scores(version: int) -> None:
    text = "https://badges.example.org/oid4vci/offers/" + "x" * 2000
    code = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    code.add_data(text[:max(1, qrcode.util.BIT_LIMIT_TABLE[1][version] // 8 - 4)])
    layout = _layout(version)
    for mask in range(8):
        code.makeImpl(True, mask)
        assert _penalty(_bits(code.modules, layout.stride), layout) == qrcode.util.lost_point(code.modules)


def test_a_text_too_long_is_refused_as_qrcode_refuses_it() -> None:
    made, drawn = _pair("x" * 3000, qrcode.constants.ERROR_CORRECT_M)
    with pytest.raises((qrcode.exceptions.DataOverflowError, ValueError)):  # "Invalid version (was 41…)"
        made.make(fit=True)
    with pytest.raises((qrcode.exceptions.DataOverflowError, ValueError)):
        draw(drawn)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, level=st.sampled_from(LEVELS))
def test_the_first_guess_is_the_version_best_fits_first_pass_finds(text: str, level: int) -> None:
    counted, guessed = _pair(text, level)
    # best_fit's first pass: every segment with the length field of versions 1 to 9 (as qrcode counts it).
    buffer = qrcode.util.BitBuffer()
    for data in counted.data_list:
        buffer.put(data.mode, 4)
        buffer.put(len(data), qrcode.util.MODE_SIZE_SMALL[data.mode])
        data.write(buffer)
    first_pass = bisect_left(qrcode.util.BIT_LIMIT_TABLE[level], len(buffer), 1)
    assert _first_guess(guessed) == (first_pass if first_pass <= 40 else None)
    if first_pass <= 40:
        assert guessed.best_fit(start=_first_guess(guessed)) == counted.best_fit()
