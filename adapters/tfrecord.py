"""TFRecord framing without TensorFlow: each record is
``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from harness.core.errors import DataError


def _table() -> list[int]:
    poly = 0x82F63B78  # CRC-32C (Castagnoli), reflected
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        out.append(c)
    return out


_T = _table()


def crc32c(data: bytes) -> int:
    try:  # a compiled implementation when installed (the pure one is ~0.1 us/byte)
        import google_crc32c

        return int(google_crc32c.value(data))
    except ImportError:
        pass
    c = 0xFFFFFFFF
    t = _T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def write_records(path: Path, records: list[bytes]) -> None:
    with open(path, "wb") as fh:
        for r in records:
            n = struct.pack("<Q", len(r))
            fh.write(n + struct.pack("<I", masked_crc(n)) + r + struct.pack("<I", masked_crc(r)))


def read_records(path: Path, check_crc: bool = True) -> Iterator[bytes]:
    """Stream the records of a TFRecord file; DataError on truncation or a CRC mismatch."""
    with open(path, "rb") as fh:
        k = 0
        while True:
            head = fh.read(12)
            if not head:
                return
            if len(head) < 12:
                raise DataError(f"{path}: truncated record header at record {k}; the file is "
                                "incomplete: download it again")
            n = head[:8]
            (length,) = struct.unpack("<Q", n)
            if check_crc and struct.unpack("<I", head[8:])[0] != masked_crc(n):
                raise DataError(f"{path}: length CRC mismatch at record {k} (corrupted file); "
                                "download it again")
            data = fh.read(length)
            tail = fh.read(4)
            if len(data) < length or len(tail) < 4:
                raise DataError(f"{path}: truncated record {k}; the file is incomplete: "
                                "download it again")
            if check_crc and struct.unpack("<I", tail)[0] != masked_crc(data):
                raise DataError(f"{path}: data CRC mismatch at record {k} (corrupted file); "
                                "download it again")
            yield data
            k += 1
