"""Finish an MD5 from the running state the Rust service stores.

The service keeps, per upload, the md-5 crate's (0.11) `SerializableState` of
the hash over the bytes written so far (src/store/files.rs `md5_to_state`).
Its 88 bytes are, in order:

* 16: the four 32-bit chaining words A, B, C, D, little-endian
  (md-5 `Md5Core::serialize`);
* 8: the number of 64-byte blocks compressed so far, little-endian u64;
* 1: how many bytes wait in the block buffer (0..63: an "eager" buffer
  never holds a full block, block-buffer 0.12 `BlockBuffer::serialize`);
* 63: those bytes, then zeros (so the buffer serialises to one block size).

hashlib cannot be used to finish it: its md5 objects only start from the
empty state (OpenSSL's MD5_CTX is not reachable from Python and `copy()` only
clones an existing object), so the last one or two blocks (the buffered tail,
the 0x80 byte, zeros and the bit length) are compressed here, in Python. That
is at most two blocks: constant time whatever the file size.
"""
import math
import struct

STATE_LEN = 16 + 8 + 1 + 63
BLOCK = 64

_SHIFTS = ([7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4
           + [6, 10, 15, 21] * 4)
_K = [int(abs(math.sin(i + 1)) * 2 ** 32) & 0xFFFFFFFF for i in range(64)]
_MASK = 0xFFFFFFFF


class BadState(ValueError):
    """The bytes are not a serialised md-5 0.11 state."""


def _rotl(x, c):
    return ((x << c) | (x >> (32 - c))) & _MASK


def compress(words, block):
    """RFC 1321's MD5 transform of one 64-byte block; returns the new words."""
    a0, b0, c0, d0 = words
    m = struct.unpack('<16I', block)
    a, b, c, d = a0, b0, c0, d0
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | ~d & _MASK), (7 * i) % 16
        f = (f + a + _K[i] + m[g]) & _MASK
        a, d, c = d, c, b
        b = (b + _rotl(f, _SHIFTS[i])) & _MASK
    return ((a0 + a) & _MASK, (b0 + b) & _MASK, (c0 + c) & _MASK, (d0 + d) & _MASK)


def decode_state(state):
    """(words, blocks, buffered bytes) of a stored state; BadState if malformed."""
    state = bytes(state)
    if len(state) != STATE_LEN:
        raise BadState('state is %d bytes, not %d' % (len(state), STATE_LEN))
    words = struct.unpack('<4I', state[:16])
    (blocks,) = struct.unpack('<Q', state[16:24])
    pos = state[24]
    if pos >= BLOCK:
        raise BadState('buffer position %d is not below the block size' % pos)
    tail = state[25:]
    if any(tail[pos:]):
        raise BadState('bytes after the buffered data are not zero')
    return words, blocks, tail[:pos]


def covered_length(state):
    """How many bytes of input the state has hashed."""
    _, blocks, buffered = decode_state(state)
    return blocks * BLOCK + len(buffered)


def finish_hex(state):
    """The hex digest of the input the state has hashed (md-5
    `finalize_fixed_core`: pad with 0x80, zeros, the bit length mod 2**64)."""
    words, blocks, buffered = decode_state(state)
    bit_len = ((blocks * BLOCK + len(buffered)) * 8) & 0xFFFFFFFFFFFFFFFF
    pad_len = (55 - len(buffered)) % BLOCK
    tail = buffered + b'\x80' + b'\x00' * pad_len + struct.pack('<Q', bit_len)
    for i in range(0, len(tail), BLOCK):
        words = compress(words, tail[i:i + BLOCK])
    return struct.pack('<4I', *words).hex()


# The chaining words before any input (RFC 1321 3.3).
INITIAL_WORDS = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)


def state_of(data):
    """The serialised state md-5 0.11 would hold after hashing `data` (for
    tests: what the service stores)."""
    words = INITIAL_WORDS
    full = len(data) - len(data) % BLOCK
    for i in range(0, full, BLOCK):
        words = compress(words, data[i:i + BLOCK])
    rest = data[full:]
    return (struct.pack('<4I', *words) + struct.pack('<Q', full // BLOCK)
            + bytes([len(rest)]) + rest + b'\x00' * (BLOCK - 1 - len(rest)))
