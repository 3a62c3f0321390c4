"""RFC 9162 Merkle trees (section 2.1): hashes, proofs and their verification.

Leaf = SHA-256(0x00 || entry bytes), node = SHA-256(0x01 || left || right). Proofs
are built from the hashes of complete subtrees, asked of ``Subtrees``: a complete
subtree at ``level`` and ``idx`` covers leaves ``[idx * 2**level, (idx + 1) * 2**level)``.
"""

import hashlib
from collections.abc import Callable, Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()

# The hash of a complete subtree, given its level and index.
Subtrees = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not prove what it claims."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(
    lo: int, hi: int, subtrees: Subtrees, memo: dict[tuple[int, int], bytes] | None = None
) -> bytes:
    """MTH(D[lo:hi]) for a range whose complete left parts are aligned (any prefix, and
    every range a proof asks for). ``memo`` keeps the hashes of incomplete ranges (the
    tree's right edge) for proofs that share them."""
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        return subtrees(n.bit_length() - 1, lo // n)
    if memo is not None and (lo, hi) in memo:
        return memo[(lo, hi)]
    k = _split(n)
    result = node_hash(subtree_hash(lo, lo + k, subtrees, memo), subtree_hash(lo + k, hi, subtrees, memo))
    if memo is not None:
        memo[(lo, hi)] = result
    return result


def inclusion_proof(
    index: int, size: int, subtrees: Subtrees, memo: dict[tuple[int, int], bytes] | None = None
) -> list[bytes]:
    """PATH(index, D[0:size]), leaf's sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    # Down the tree's right edge while the range holding the leaf is incomplete.
    while (hi - lo) & (hi - lo - 1):
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subtree_hash(lo + k, hi, subtrees, memo))
            hi = lo + k
        else:
            path.append(subtree_hash(lo, lo + k, subtrees, memo))
            lo += k
    # Then [lo, hi) is a complete subtree (aligned: every left part is), and the rest of
    # the path is the leaf's ancestors' siblings within it, leaf's sibling last here.
    height = (hi - lo).bit_length() - 1
    path.extend(subtrees(level, (index >> level) ^ 1) for level in range(height - 1, -1, -1))
    path.reverse()
    return path


def inclusion_proofs(indices: Iterable[int], size: int, subtrees: Subtrees) -> list[list[bytes]]:
    """PATH(index, D[0:size]) for each of ``indices``: the right edge's hashes, which
    every proof of a leaf left of them shares, are computed once."""
    memo: dict[tuple[int, int], bytes] = {}
    return [inclusion_proof(index, size, subtrees, memo) for index in indices]


def consistency_proof(first: int, second: int, subtrees: Subtrees) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    m, lo, hi, complete = first, 0, second, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_hash(lo + k, hi, subtrees))
            hi = lo + k
        else:
            proof.append(subtree_hash(lo, lo + k, subtrees))
            m, lo, complete = m - k, lo + k, False
    if not complete:
        proof.append(subtree_hash(lo, hi, subtrees))
    proof.reverse()
    return proof


def needed(build: Callable[[Subtrees], object]) -> set[tuple[int, int]]:
    """The complete subtrees ``build`` asks for, so that they can be read in one query."""
    keys: set[tuple[int, int]] = set()

    def record(level: int, idx: int) -> bytes:
        keys.add((level, idx))
        return EMPTY_ROOT

    build(record)
    return keys


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2; raises ``ProofError``."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes
) -> None:
    """RFC 9162 section 2.1.4.2; raises ``ProofError``."""
    if not 0 <= first <= second:
        raise ProofError(f"size {first} cannot precede size {second}")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError(f"two different trees of size {first}")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root or sr != second_root:
        raise ProofError(f"the tree of size {second} does not extend the tree of size {first}")


class CompactRange:
    """The right edge of a tree (its complete subtrees, largest first): appends leaves,
    reports the complete subtrees each append finishes, and gives the root."""

    def __init__(self, size: int = 0, peaks: Iterable[bytes] = ()) -> None:
        self.size = size
        self.peaks = list(peaks)
        if len(self.peaks) != bin(size).count("1"):
            raise ValueError(f"a tree of size {size} has {bin(size).count('1')} peaks")

    @staticmethod
    def peak_keys(size: int) -> list[tuple[int, int]]:
        """(level, idx) of the peaks of a tree of ``size``, largest first."""
        keys = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        return keys

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        pos, h, level = self.size, leaf, 0
        finished: list[tuple[int, int, bytes]] = []
        while pos & 1:
            h = node_hash(self.peaks.pop(), h)
            pos, level = pos >> 1, level + 1
            finished.append((level, pos, h))
        self.peaks.append(h)
        self.size += 1
        return finished

    def root(self) -> bytes:
        return peaks_root(self.peaks)


def peaks_root(peaks: list[bytes]) -> bytes:
    """The root of a tree given its complete subtrees, largest first."""
    if not peaks:
        return EMPTY_ROOT
    r = peaks[-1]
    for p in reversed(peaks[:-1]):
        r = node_hash(p, r)
    return r
