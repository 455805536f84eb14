"""A /dev/shm too small for the segment (docs/design.md, "Failure behaviour"):
`shmtool create` fails at once, says how much the segment needs and how much is free, and
leaves nothing behind, instead of a worker dying of SIGBUS later.

Runs shmtool in a private mount namespace whose /dev/shm is an 8 MiB tmpfs
(unshare -m; needs root or CAP_SYS_ADMIN), so the host's /dev/shm is untouched.
"""

import subprocess
import unittest

from appliance import build_path

HEADER_BYTES, FINGERPRINT_BYTES, SLOT_BYTES = 4096, 4, 5888  # shm/layout.h: slot_bytes(30), the default days
PAGE = 4096
DEV_SHM_MIB = 8


def in_small_dev_shm(*shmtool_args):
    """Mounts an 8 MiB /dev/shm in a new mount namespace, runs shmtool there,
    then lists what is left in that /dev/shm (after a line "--- left:")."""
    script = (f'mount -t tmpfs -o size={DEV_SHM_MIB}M tmpfs /dev/shm || exit 97\n'
              '"$@"; status=$?\necho "--- left:"; ls -A /dev/shm\nexit $status')
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *shmtool_args],
                          capture_output=True, text=True, timeout=60)


class SmallDevShmTest(unittest.TestCase):
    def setUp(self):
        probe = in_small_dev_shm("true")
        if probe.returncode != 0:
            self.skipTest(f"a private mount namespace with its own /dev/shm is not permitted here "
                          f"(unshare -m + mount tmpfs exited {probe.returncode}: {probe.stderr.strip()})")

    def create(self, capacity):
        return in_small_dev_shm(build_path("cli/shmtool"), "create", "--segment", "st_small_shm",
                                "--capacity", str(capacity))

    def test_too_large_a_segment_fails_at_create_saying_what_it_needs(self):
        capacity = 8192
        fingerprint_pages = -(-capacity * FINGERPRINT_BYTES // PAGE) * PAGE
        needed_mib = (HEADER_BYTES + fingerprint_pages + capacity * SLOT_BYTES) >> 20
        self.assertGreater(needed_mib, DEV_SHM_MIB)
        result = self.create(capacity)
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn(f"{needed_mib} MiB", result.stderr)
        self.assertIn(f"/dev/shm has {DEV_SHM_MIB} MiB free", result.stderr)
        self.assertEqual(result.stdout.split("--- left:")[1].strip(), "", "a partial segment was left behind")

    def test_a_segment_that_fits_is_created_in_the_same_space(self):
        result = self.create(1024)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split("--- left:")[1].split(), ["st_small_shm"])


if __name__ == "__main__":
    unittest.main()
