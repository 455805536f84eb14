"""Server names end to end (docs/design.md, "Concurrency rules", "Names"): host
names as they are, 1 to 253 bytes of A-Z a-z 0-9 _ . - starting with a letter,
digit or _, case-sensitive; a 254-byte name, or one starting with . or -, is
refused with 400 and records nothing."""

import unittest

from appliance import (appliance, assert_json_error, get_server, list_servers, listed_names, post_batch, post_sample,
                       recent_minutes, request_json)

HOST_NAMES = ["web-01", "web_01", "db-2.prod.example.com", "ip-10-0-12-34.eu-west-1.compute.internal",
              "WEB-01", "_underscore", "9lives"]


def dns_name(length):
    """A host name of exactly `length` bytes: labels of 63 bytes joined by dots."""
    labels, left = [], length
    while left > 0:
        label = min(63, left)
        labels.append("a" * label)
        left -= label + 1
    name = ".".join(labels)
    return name + "b" * (length - len(name))


class NamesTest(unittest.TestCase):
    def test_host_names_are_servers_of_their_own(self):
        with appliance() as (_, ingest, query):
            for i, name in enumerate(HOST_NAMES):
                self.assertEqual(post_sample(ingest, name, i, i), 204, name)
            for i, name in enumerate(HOST_NAMES):
                status, snapshot = get_server(query, name)
                self.assertEqual(status, 200, name)
                self.assertEqual(recent_minutes(snapshot, "cpu"), [i], name)
            self.assertEqual(listed_names(query), sorted(HOST_NAMES))

    def test_253_bytes_are_a_name_and_254_are_not(self):
        longest, too_long = dns_name(253), dns_name(254)
        self.assertEqual((len(longest), len(too_long)), (253, 254))
        with appliance() as (_, ingest, query):
            self.assertEqual(post_sample(ingest, longest, 1, 2), 204)
            self.assertEqual(get_server(query, longest)[0], 200)
            self.assertEqual([s["name"] for s in list_servers(query, "prefix=aaa")[1]["servers"]], [longest])
            status, headers, body = request_json("POST", f"{ingest.url}/server/{too_long}", {"cpu": 1, "ram": 2})
            assert_json_error(self, status, headers, body, 400)
            self.assertIn("1 to 253 characters", body["error"])
            self.assertEqual(get_server(query, too_long)[0], 400)
            status, answer = post_batch(ingest, {too_long: {"cpu": 1, "ram": 2}, longest: {"cpu": 3, "ram": 4}})
            self.assertEqual((status, answer["recorded"]), (200, 1))
            self.assertEqual([(r["name"], r["reason"]) for r in answer["rejected"]], [(too_long, "invalid_name")])

    def test_a_name_starting_with_a_dot_or_dash_is_refused(self):
        with appliance() as (_, ingest, query):
            for name in ("-web", ".web", "web%2001", "web%2F01", "w%C3%A9b", "web:01"):
                self.assertEqual(post_sample(ingest, name, 1, 2), 400, name)
            self.assertEqual(list_servers(query)[1]["servers"], [])


if __name__ == "__main__":
    unittest.main()
