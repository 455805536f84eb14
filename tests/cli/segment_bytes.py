"""Raw access to a segment's bytes in /dev/shm, for planting corruption and
comparing buckets exactly. Offsets are those documented in shm/layout.h."""

import mmap
import os
import struct
import subprocess

HEADER_SIZE = 4096
CAPACITY_OFFSET = 16
SLOT_SIZE_OFFSET = 24  # u32: the bytes of one slot, 4736 + 40 x days rounded up to 64
SLOTS_OFFSET_OFFSET = 40  # where slot 0 starts: after the header and the fingerprint pages
USED_SLOTS_OFFSET = 64
FINGERPRINT_SIZE = 4  # u32 per slot, from HEADER_SIZE on
# Slot fields; the lock word is a u64 (lock_word() below)
STATE, SEQ, LOCK_OWNER, NAME_LENGTH, NAME_HASH, LAST_SAMPLE, NAME = 0, 4, 8, 16, 24, 32, 40
JOURNAL, MINUTES, HOURS, DAYS = 296, 464, 3344, 4688
# The buckets (count, max, sum and retry marks per metric, cpu then ram):
MINUTE_FORMAT = "<IHHffddQQ"   # index, count x2 (u16), max x2 (f32), sum x2, seconds x2: 48 bytes
HOUR_FORMAT = "<IIIffIddQQ"    # index, count x2, max x2, reserved, sum x2, minutes x2: 56 bytes
DAY_FORMAT = "<QIIffdd"        # day | cpu hours << 16 | ram hours << 40, count x2, max x2, sum x2: 40 bytes
MINUTE_SIZE, HOUR_SIZE, DAY_SIZE = 48, 56, 40
HOUR_SUM = 24  # where an hour bucket's cpu sum is
MINUTE_BUCKETS, HOUR_BUCKETS = 60, 24


def minute_bucket(index, count, value):
    """(format, *values) of a minute bucket holding `count` samples of `value`, both metrics."""
    return MINUTE_FORMAT, index, count, count, value, value, value * count, value * count, 0, 0


def hour_bucket(index, count, value):
    return HOUR_FORMAT, index, count, count, value, value, 0, value * count, value * count, 0, 0


class SegmentBytes:
    """The segment mapped read-write; a context manager."""

    def __init__(self, name):
        self.path = os.path.join("/dev/shm", name)

    def __enter__(self):
        self._file = open(self.path, "r+b")
        self.map = mmap.mmap(self._file.fileno(), 0)
        return self

    def __exit__(self, *exc):
        self.map.close()
        self._file.close()
        return False

    def capacity(self):
        return struct.unpack_from("<Q", self.map, CAPACITY_OFFSET)[0]

    def slot_size(self):
        return struct.unpack_from("<I", self.map, SLOT_SIZE_OFFSET)[0]

    def slot_offset(self, index):
        return struct.unpack_from("<Q", self.map, SLOTS_OFFSET_OFFSET)[0] + index * self.slot_size()

    def fingerprint_offset(self, index):
        return HEADER_SIZE + index * FINGERPRINT_SIZE

    def slots(self):
        """{name: slot index} of every published slot."""
        found = {}
        for index in range(self.capacity()):
            base = self.slot_offset(index)
            if struct.unpack_from("<I", self.map, base + STATE)[0] == 1:
                length = struct.unpack_from("<I", self.map, base + NAME_LENGTH)[0]
                found[bytes(self.map[base + NAME:base + NAME + length]).decode("latin-1")] = index
        return found

    def data(self, index):
        """The slot's last sample time and its three rings, as raw bytes."""
        base = self.slot_offset(index)
        return bytes(self.map[base + LAST_SAMPLE:base + LAST_SAMPLE + 8]) + \
            bytes(self.map[base + MINUTES:base + self.slot_size()])

    def bucket(self, index, ring_offset, position):
        """A minute or hour bucket's fields (MINUTE_FORMAT, HOUR_FORMAT)."""
        minutes = ring_offset == MINUTES
        size, fmt = (MINUTE_SIZE, MINUTE_FORMAT) if minutes else (HOUR_SIZE, HOUR_FORMAT)
        return struct.unpack_from(fmt, self.map, self.slot_offset(index) + ring_offset + position * size)

    def put(self, offset, fmt, *values):
        struct.pack_into(fmt, self.map, offset, *values)


def lock_word(pid):
    """The lock word naming process `pid` as it runs now (shm/owner.h): its id
    and the low 32 bits of its start time in clock ticks."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[19]) & 0xFFFFFFFF) << 32 | pid


def dead_pid():
    """A pid that certainly belonged to a process that has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
