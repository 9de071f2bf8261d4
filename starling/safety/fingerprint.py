"""Near-duplicate fingerprints: a MinHash signature of a post's text (datasketch) and its LSH band keys.

The LSH index lives in SQL (safety.models.MinHashBand), not in memory: every process of the instance
writes and queries the same rows, a restart loses nothing, and old rows are pruned by age. A lookup is
one indexed `band_key IN (...)` query per post. With 16 bands of 4 rows, two posts with Jaccard
similarity s share at least one band with probability 1 - (1 - s^4)^16: 0.6 -> 0.89, 0.7 -> 0.98,
0.3 -> 0.12; candidates are then measured on their stored signatures.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np
from datasketch import MinHash

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 5
# Shorter texts ("thanks!", "good morning", "test post 3") are too small to call duplicates: about 24
# characters once links, mentions and digits are gone.
MIN_SHINGLES = 20
SEED = 20261126  # fixed: every process must draw the same permutations

_URL = re.compile(r"https?://([^/\s?#]+)[^\s]*", re.IGNORECASE)
_MENTION = re.compile(r"@[\w.]+(@[\w.-]+)?")
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[^\w ]+")


def _host_word(match: re.Match[str]) -> str:
    host = match.group(1).lower().split(":")[0]
    return " ".join(host.split(".")[-2:])  # the registered part: random subdomains change nothing


def canonical(text: str) -> str:
    """What is compared: lower-case words, links reduced to their domain, mentions, digits and
    punctuation dropped, so that the small variations spammers add change little."""
    text = _URL.sub(_host_word, text)
    text = _MENTION.sub(" ", text.lower())
    text = _DIGITS.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def shingles(text: str) -> set[bytes]:
    flat = canonical(text)
    return {flat[i:i + SHINGLE].encode() for i in range(max(0, len(flat) - SHINGLE + 1))}


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    return MinHash(num_perm=NUM_PERM, seed=SEED).permutations


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature (NUM_PERM uint32 values), or None when the text is too short to judge."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme="affine32")
    sketch.update_batch(list(grams))
    return sketch.hashvalues.astype(np.uint32)


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (it fits a BIGINT), naming the band and its rows' values."""
    raw = sig.astype("<u4")
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(bytes([band]) + raw[band * ROWS:(band + 1) * ROWS].tobytes(), digest_size=8)
        keys.append(int.from_bytes(digest.digest(), "big", signed=True))
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingles."""
    return float(np.count_nonzero(a == b)) / NUM_PERM
