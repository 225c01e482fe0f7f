"""Streaming digests agree with hashlib at every block boundary, threaded or inline."""

from __future__ import annotations

import hashlib
import io

import pytest

from tipsom.evidence.hashing import HashAlgorithm, digest_stream

BLOCK = 1024


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 7])
@pytest.mark.parametrize("hinted", [True, False])
def test_digests_match_hashlib_and_sink_sees_every_byte(size: int, hinted: bool) -> None:
    data = bytes((i * 7 + size) % 256 for i in range(size))
    sunk = bytearray()
    digests = digest_stream(io.BytesIO(data), sink=sunk.extend, block_size=BLOCK,
                            size_hint=size if hinted else None)
    assert digests.size == size
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.sha1 == hashlib.sha1(data).hexdigest()
    assert digests.md5 == hashlib.md5(data).hexdigest()
    assert bytes(sunk) == data


def test_stream_longer_than_its_hint_is_still_read_to_the_end() -> None:
    data = b"grew after stat" * 100
    assert digest_stream(io.BytesIO(data), size_hint=10).sha256 == hashlib.sha256(data).hexdigest()


def test_sha256_cannot_be_left_out() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        digest_stream(io.BytesIO(b""), (HashAlgorithm.MD5,))
