"""`servertrack run --peers NAME=HOST:PORT,...`: every query worker it starts
answers /fleet and /servers for the nodes named (README.md, "More than one
host"); here one node, the appliance itself."""
import unittest

from appliance import TestSegment, free_port, request_json
from supervised import Supervised


class Peers(unittest.TestCase):
    def test_every_query_worker_answers_for_the_peers(self):
        with TestSegment() as segment:
            port = free_port()
            peers = f"solo=127.0.0.1:{port}"
            with Supervised(segment.name, segment.capacity, query_workers=2, query_port=port,
                            extra_args=("--peers", peers)) as run:
                run.wait_ready()
                # Several connections, so both processes on the shared port answer some.
                for _ in range(8):
                    status, _, fleet = request_json("GET", f"{run.query_url}/fleet")
                    self.assertEqual((status, fleet["nodes"], fleet["unreachable"]), (200, ["solo"], []))
                    status, _, listing = request_json("GET", f"{run.query_url}/servers")
                    self.assertEqual((status, listing["nodes"]), (200, ["solo"]))


if __name__ == "__main__":
    unittest.main()
