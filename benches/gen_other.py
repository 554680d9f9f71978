#!/usr/bin/env python3
"""A second, independent generator of CleverTap export records, for holding bench_baseline's
ratios against data the Rust generator (examples/gen_export.rs) did not make: other event names
and spellings (lower case, stray spaces), 0 to 40 properties, numbers, booleans, lists and
nested objects as values, pretty spacing (`json.dumps` puts a space after `:` and `,`, so the
record ids are digested from the records written out again, not from their text as read),
users without an identity or with an e-mail only.

    python3 benches/gen_other.py --records 1000000 -o other.jsonl [--seed 11]
"""
import argparse
import json
import random

NAMES = [
    "App Launched", "app launched", "Notification Sent", "Notification Viewed",
    "Notification Clicked", "UTM Visited", "utm visited", "App Installed", "App Uninstalled",
    "Charged", "Added To Cart", "Geocluster Entered", "GeoCluster Exited", "Push Impressions",
    "Reply Sent", "Webhook Delivered", "Control Group", "Product Viewed", "Searched",
    "Level Completed",
]
EXTRA = ["Screen", "plan", "Tier ", " Referrer", "Language", "Theme", "Cohort", "Store Name",
         "City", "Segment", "Experiment  Arm", "Battery", "Build"]
WORDS = ["Mobile", "Push", "Email", "Web", "spring_launch", "organic", "google-play", "airtel",
         "jio", "WiFi", "4G", "A", "B", "Ünïcode ✓", "a \"quoted\" word"]


def value(rng):
    kind = rng.random()
    if kind < 0.55:
        return rng.choice(WORDS)
    if kind < 0.7:
        return rng.randrange(100000)
    if kind < 0.8:
        return round(rng.uniform(-1000, 1000), 3)
    if kind < 0.88:
        return rng.random() < 0.5
    if kind < 0.94:
        return [rng.choice(WORDS) for _ in range(rng.randrange(1, 4))]
    return {"l": rng.choice(WORDS), "n": rng.randrange(10)}


def record(rng, users):
    u = rng.randrange(users)
    profile = {"objectId": "__g%032x" % u, "platform": rng.choice(["Android", "iOS", "Web"])}
    if u % 7:
        profile["identity"] = str(6100000000000000 + u)
    if u % 3 == 0:
        profile["email"] = "User%d@Example.com" % u
        profile["all_identities"] = [profile["email"], str(u)]
    if u % 5 == 0:
        profile["phone"] = "+91%010d" % u
    props = {"CT Source": rng.choice(WORDS)}
    for k in range(rng.randrange(0, 40)):
        props["%s %d" % (rng.choice(EXTRA), k)] = value(rng)
    if rng.random() < 0.2:
        props["CT Latitude"] = round(rng.uniform(-80, 80), 4)
        props["CT Longitude"] = round(rng.uniform(-170, 170), 4)
    ts = "20%02d%02d%02d%02d%02d%02d" % (rng.randint(22, 26), rng.randint(1, 12),
                                         rng.randint(1, 28), rng.randrange(24),
                                         rng.randrange(60), rng.randrange(60))
    out = {"ts": int(ts), "eventName": rng.choice(NAMES), "profile": profile,
           "deviceInfo": {"make": "samsung", "model": "SM-G781B",
                          "appVersion": "4.%d.%d" % (u % 5, u % 9), "osVersion": "13"},
           "eventProps": props}
    if rng.random() < 0.1:
        out["sessionProps"] = {"utm_source": rng.choice(WORDS), "utm_medium": "push"}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100000)
    parser.add_argument("--users", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.output, "w", encoding="utf-8") as f:
        for _ in range(args.records):
            f.write(json.dumps(record(rng, args.users), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
