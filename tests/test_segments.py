"""SMS segments counted as carriers count them."""

import pytest

from hotline.segments import count_segments


@pytest.mark.parametrize("text,encoding,segments", [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("{" * 80, "GSM-7", 1),          # extension characters take two septets
    ("{" * 81, "GSM-7", 2),
    ("é" * 160, "GSM-7", 1),          # é is in the GSM alphabet
    ("ñ" * 70 + "’", "UCS-2", 2),     # one curly quote makes it all UCS-2
    ("ا" * 70, "UCS-2", 1),
    ("ا" * 71, "UCS-2", 2),
    ("ờ" * 67 * 2, "UCS-2", 2),       # Vietnamese tone marks
    ("😀" * 35, "UCS-2", 1),          # outside the BMP: two code units each
    ("😀" * 36, "UCS-2", 2),
])
def test_segment_counts(text, encoding, segments):
    counted = count_segments(text)
    assert (counted.encoding, counted.segments) == (encoding, segments)
