"""The webhooks tutorial, run by the official Kili Python SDK (unmodified) against our server.

Usage: python tests/python/tutorial_sdk.py ENDPOINT API_KEY

Runs the SDK's full start-up checks (KILI_SDK_SKIP_CHECKS is removed), with HOME pointed at a
fresh temporary directory so its schema cache starts empty. Exits non-zero if any check fails.
Every wait is bounded.
"""

import json
import os
import sys
import tempfile
import threading
import time
import traceback

# Before importing kili: no skipped checks, an empty home (schema cache).
os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
os.environ["HOME"] = tempfile.mkdtemp(prefix="kili-sdk-home-")

from kili.client import Kili  # noqa: E402

from tutorial_data import CAR, JSON_INTERFACE, RESPONSE  # noqa: E402
# The SDK sleeps 1 s after every frame it reads (ka included), so deliveries take seconds.
DELIVERY_DEADLINE = 15.0
# While paused, the SDK reads frames and drops them; it offers no signal that it has read one,
# so we give it this long (a few of its 1 s reads) before unpausing.
PAUSED_DRAIN = 4.0

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def main(endpoint, api_key):
    kili = Kili(api_key=api_key, api_endpoint=endpoint)
    check(True, "Kili() start-up checks passed (viewer, version, introspection, apiKeys)")

    project_id = kili.create_project(
        input_type="IMAGE", json_interface=JSON_INTERFACE, title="Webhook project"
    )["id"]
    check(bool(project_id), f"create_project returned an id ({project_id})")
    check(kili.count_projects(project_id=project_id) == 1, "count_projects finds it")
    project = kili.projects(project_id=project_id)[0]
    check(project["jsonInterface"] == JSON_INTERFACE, "projects returns the json interface")

    # The SDK gzips request bodies of 1 MB or more.
    big = kili.create_project(
        input_type="TEXT", json_interface=JSON_INTERFACE, title="big", description="x" * (2 << 20)
    )["id"]
    fetched = kili.projects(project_id=big, fields=["description"])[0]["description"]
    check(len(fetched) == 2 << 20, "a 2 MiB (gzipped) create_project went through")
    kili.delete_project(big)
    check(kili.count_projects(project_id=big) == 0, "delete_project removed it")

    kili.append_many_to_dataset(
        project_id=project_id, content_array=[CAR], external_id_array=["car_1"]
    )
    try:
        kili.append_many_to_dataset(
            project_id=project_id, content_array=[CAR], external_id_array=["car_1"]
        )
        check(False, "re-importing car_1 is refused by the SDK's filterExistingAssets check")
    except Exception as err:  # noqa: BLE001 - the SDK's ImportValidationError
        check("already exist" in str(err), "re-importing car_1 is refused (filterExistingAssets)")
    assets = kili.assets(project_id=project_id, fields=["id", "externalId", "content"])
    check(len(assets) == 1, "assets returns the one asset")
    check(assets[0]["externalId"] == "car_1" and assets[0]["content"] == CAR, "asset fields")
    asset_id = kili.assets(project_id=project_id, fields=["id"])[0]["id"]

    received = []
    cond = threading.Condition()

    def callback(subscription_id, message):
        with cond:
            received.append(message)
            cond.notify_all()

    def wait_for(count, timeout=DELIVERY_DEADLINE):
        deadline = time.monotonic() + timeout
        with cond:
            while len(received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                cond.wait(left)
            return True

    def add_label():
        added = kili.append_labels(
            json_response_array=[RESPONSE], asset_id_array=[asset_id], label_type="INFERENCE"
        )
        return added[0]["id"]

    client = kili.label_created_or_updated(project_id=project_id, callback=callback)

    first = add_label()
    check(wait_for(1), "the callback receives the first label")
    if received:
        frame = received[0]
        label = frame.get("payload", {}).get("data", {}).get("data", {})
        check(frame.get("type") == "data", "it is a graphql-ws data frame")
        check(label.get("id") == first, "with the label's id")
        check(label.get("labelType") == "INFERENCE", "and its labelType")
        check(label.get("labelOf", {}).get("id") == asset_id, "and labelOf.id")
        check(bool(label.get("author", {}).get("email")), "and author.email")
        check(json.loads(label.get("jsonResponse", "null")) == RESPONSE, "and jsonResponse")

    client.pause()
    second = add_label()
    time.sleep(PAUSED_DRAIN)
    client.unpause()
    third = add_label()
    check(wait_for(2), "after unpause, the callback receives a label again")
    ids = [m.get("payload", {}).get("data", {}).get("data", {}).get("id") for m in received]
    check(second not in ids, "the label added while paused was not passed to the callback")
    check(third in ids, "the label added after unpause was")

    client.close()
    add_label()

    labels = kili.labels(project_id=project_id)
    check(len(labels) == 4, f"labels counts 4 (got {len(labels)})")
    check(kili.count_labels(project_id=project_id) == 4, "count_labels counts 4")
    check(all(l["labelType"] == "INFERENCE" for l in labels), "all are INFERENCE labels")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception:  # noqa: BLE001 - any exception is a failed check
        traceback.print_exc()
        failures.append("exception")
    print(f"{len(failures)} failure(s)", flush=True)
    # The SDK's subscription thread is not a daemon and may outlive close(): exit regardless.
    os._exit(1 if failures else 0)
