"""The Merkle-sum tree a revenue batch commits to: the root fixes both the
set of events and their totals per source, and an inclusion proof shows that
one event was counted, with no access to the journal.

Format (version 1; every integer little-endian u64, hashes SHA-256):

- An event's id hash is `SHA256(ref as UTF-8)`.
- Sums are four counters: cents of course_sale, subscription, other, and the
  number of events.
- A leaf is `SHA256(0x00 || id_hash || source_index as one byte || cents)`
  with the sums of its one event.
- A node is `SHA256(0x01 || left.hash || left.sums || right.hash ||
  right.sums)` with the sums of both (every counter must fit a u64): each
  hash commits to its children's sums, so no sum can be changed alone.
- Leaves are in batch order; a level of odd length carries its last node up
  unchanged (duplicating it would count it twice).
- A proof is the leaf's event (ref, source, cents), its index, and the
  siblings from the leaf up: `{"side": "left"|"right", "hash": hex, "sums":
  [4 counters]}`; applying them in order must give the batch's root hash
  and sums.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Callable, Sequence

SOURCES = ("course_sale", "subscription", "other")
U64_MAX = 2**64 - 1
VERSION = 1
NODE_BYTES = 64
"""A node stored: its hash, then its four sums as u64 LE."""
_SUMS = struct.Struct("<4Q")
_LEAF = struct.Struct("<BQ")

Sums = tuple[int, int, int, int]
"""Cents of course_sale, subscription, other; and the number of events."""


class InvalidProof(ValueError):
    """A proof that does not lead to the root it claims, or is malformed."""


@dataclass(frozen=True)
class Node:
    hash: bytes
    sums: Sums


def _pack(sums: Sums) -> bytes:
    try:
        return _SUMS.pack(*sums)
    except struct.error as exc:
        raise ValueError(f"sums {sums} do not fit u64s") from exc


def _add(left: Sums, right: Sums) -> Sums:
    total = (left[0] + right[0], left[1] + right[1], left[2] + right[2], left[3] + right[3])
    if any(value > U64_MAX for value in total):
        raise ValueError("a subtree's sum does not fit a u64")
    return total


def leaf(ref: str, source: str, cents: int) -> Node:
    index = SOURCES.index(source)
    if not 0 < cents <= U64_MAX:
        raise ValueError(f"an event's cents are 1 to 2^64-1, not {cents}")
    id_hash = hashlib.sha256(ref.encode()).digest()
    sums: Sums = (cents if index == 0 else 0, cents if index == 1 else 0, cents if index == 2 else 0, 1)
    return Node(hashlib.sha256(b"\x00" + id_hash + _LEAF.pack(index, cents)).digest(), sums)


def parent(left: Node, right: Node) -> Node:
    digest = hashlib.sha256(b"\x01" + left.hash + _pack(left.sums) + right.hash + _pack(right.sums)).digest()
    return Node(digest, _add(left.sums, right.sums))


def levels(leaves: Sequence[Node]) -> list[list[Node]]:
    """Every level from the leaves up to the root (one node)."""
    if not leaves:
        raise ValueError("a batch holds at least one event")
    built = [list(leaves)]
    while len(built[-1]) > 1:
        below = built[-1]
        above = [parent(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        built.append(above)
    return built


def root(leaves: Sequence[Node]) -> Node:
    return levels(leaves)[-1][0]


def sizes(count: int) -> list[int]:
    """The length of every level of a tree of `count` leaves, leaves first."""
    found = [count]
    while found[-1] > 1:
        found.append((found[-1] + 1) // 2)
    return found


def proof_from(node_at: Callable[[int, int], Node], count: int, index: int) -> list[dict[str, object]]:
    """The siblings of leaf `index` in a tree of `count` leaves, from the
    leaf up (see the module doc), reading node `i` of level `l` with
    `node_at(l, i)`: a journal keeps only the upper levels and rebuilds the
    leaf's block."""
    if not 0 <= index < count:
        raise IndexError(f"no leaf {index} in a batch of {count}")
    path: list[dict[str, object]] = []
    for level, size in enumerate(sizes(count)[:-1]):
        sibling = index ^ 1
        if sibling < size:
            node = node_at(level, sibling)
            path.append({"side": "left" if sibling < index else "right", "hash": node.hash.hex(), "sums": list(node.sums)})
        index //= 2
    return path


def proof(built: list[list[Node]], index: int) -> list[dict[str, object]]:
    """The siblings of leaf `index` in the levels `built`."""
    return proof_from(lambda level, i: built[level][i], len(built[0]), index)


def encode(nodes: Sequence[Node]) -> bytes:
    """Nodes as stored, `NODE_BYTES` each."""
    return b"".join(node.hash + _pack(node.sums) for node in nodes)


def decode(stored: bytes, index: int) -> Node:
    """Node `index` of `encode`d nodes."""
    start = index * NODE_BYTES
    chunk = stored[start : start + NODE_BYTES]
    if len(chunk) != NODE_BYTES:
        raise IndexError(f"no node {index} in {len(stored) // NODE_BYTES} stored")
    return Node(chunk[:32], _SUMS.unpack(chunk[32:]))


def hash_from_hex(text: object) -> bytes:
    """A 32-byte hash from exactly 64 hex digits."""
    if not isinstance(text, str) or len(text) != 64:
        raise ValueError("a hash is 64 hex digits")
    return bytes.fromhex(text)


def walk(start: Node, path: Sequence[dict[str, object]]) -> Node:
    """The root `path` leads to from `start`; `InvalidProof` when malformed."""
    node = start
    for step in path:
        try:
            side, sibling_hash, sums = step["side"], hash_from_hex(step["hash"]), step["sums"]
            if side not in ("left", "right"):
                raise ValueError("a step's side is left or right")
            if not isinstance(sums, list) or len(sums) != 4 or not all(type(v) is int for v in sums):
                raise ValueError("a step's sums are four integers")
            sibling = Node(sibling_hash, (sums[0], sums[1], sums[2], sums[3]))
            node = parent(sibling, node) if side == "left" else parent(node, sibling)
        except (KeyError, TypeError, ValueError, struct.error) as exc:
            raise InvalidProof(f"malformed proof step {step!r}: {exc}") from exc
    return node
