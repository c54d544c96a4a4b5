"""The official Kili Python SDK's side of the bench (section 6 of benches/README.md).

Usage: python benches/python/sdk_bench.py ENDPOINT API_KEY ROWS EVENTS
       python benches/python/sdk_bench.py ENDPOINT API_KEY read PROJECT_ID FIELDS

Against a running local server, with the SDK's full start-up checks: times `append_labels` of
ROWS labels (over 100 assets), then subscribes with `label_created_or_updated`, waits until a
label reaches the callback (the subscription is live), appends EVENTS labels in one call and
times their delivery. Prints one JSON line with the figures. Every wait is bounded.

With `read`, reads every label of PROJECT_ID with `kili.labels(..., as_generator=True)` and the
comma-separated FIELDS (the same fields the Rust side reads), and prints the rows and seconds.
"""

import json
import os
import sys
import tempfile
import threading
import time

# Before importing kili: full start-up checks, an empty home (schema cache).
os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
os.environ["HOME"] = tempfile.mkdtemp(prefix="kili-bench-home-")

from kili.client import Kili  # noqa: E402

JSON_INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "CLASSIFICATION",
            "required": 1,
            "content": {
                "categories": {"OBJECT_A": {"name": "Object A", "children": []}},
                "input": "radio",
            },
        }
    }
}
RESPONSE = {"JOB_0": {"categories": [{"name": "OBJECT_A"}]}}
ASSETS = 100
# The SDK sleeps 1 s after every frame it reads (keep-alives included).
LIVE_DEADLINE = 20.0


def main(endpoint, api_key, rows, events):
    t = time.monotonic()
    kili = Kili(api_key=api_key, api_endpoint=endpoint)
    startup = time.monotonic() - t

    project_id = kili.create_project(
        input_type="IMAGE", json_interface=JSON_INTERFACE, title="sdk bench"
    )["id"]
    kili.append_many_to_dataset(
        project_id=project_id,
        content_array=[f"https://example.com/car_{i}.jpg" for i in range(ASSETS)],
        external_id_array=[f"car_{i}" for i in range(ASSETS)],
    )
    assets = [a["id"] for a in kili.assets(project_id=project_id, fields=["id"])]

    def append(n):
        added = kili.append_labels(
            project_id=project_id,
            json_response_array=[RESPONSE] * n,
            asset_id_array=[assets[i % len(assets)] for i in range(n)],
            label_type="INFERENCE",
        )
        return [a["id"] for a in added]

    t = time.monotonic()
    appended = append(rows)
    append_secs = time.monotonic() - t
    assert len(appended) == rows, f"{len(appended)} labels appended, {rows} asked"

    arrivals = {}
    cond = threading.Condition()

    def callback(subscription_id, message):
        label_id = message.get("payload", {}).get("data", {}).get("data", {}).get("id")
        with cond:
            arrivals[label_id] = time.monotonic()
            cond.notify_all()

    def wait_for(ids, timeout):
        deadline = time.monotonic() + timeout
        with cond:
            while not all(i in arrivals for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                cond.wait(left)
            return True

    client = kili.label_created_or_updated(project_id=project_id, callback=callback)
    live = wait_for(append(1), LIVE_DEADLINE)
    result = {
        "startup_secs": startup,
        "append_rows": rows,
        "append_secs": append_secs,
        "live": live,
    }
    if live:
        t = time.monotonic()
        burst = append(events)
        delivered = wait_for(burst, LIVE_DEADLINE + 2.0 * events)
        got = [arrivals[i] for i in burst if i in arrivals]
        result["events"] = len(got)
        result["events_secs"] = (max(got) - t) if got else None
        result["all_delivered"] = delivered
    client.close()
    print(json.dumps(result), flush=True)


def read(endpoint, api_key, project_id, fields):
    kili = Kili(api_key=api_key, api_endpoint=endpoint)
    t = time.monotonic()
    rows = 0
    for label in kili.labels(
        project_id=project_id, fields=fields.split(","), as_generator=True
    ):
        rows += len(label["id"]) > 0
    print(json.dumps({"rows": rows, "read_secs": time.monotonic() - t}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[3] == "read":
        try:
            read(sys.argv[1], sys.argv[2], sys.argv[4], sys.argv[5])
            code = 0
        except Exception as e:  # noqa: BLE001 - reported to the Rust side
            print(json.dumps({"error": repr(e)}), flush=True)
            code = 1
        os._exit(code)
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        code = 0
    except Exception as e:  # noqa: BLE001 - reported to the Rust side
        print(json.dumps({"error": repr(e)}), flush=True)
        code = 1
    # The SDK's subscription thread is not a daemon and may outlive close(): exit regardless.
    os._exit(code)
