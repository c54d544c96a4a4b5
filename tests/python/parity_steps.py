"""The webhooks tutorial's steps, run with the official Kili Python SDK.

Driven by tests/python_parity.rs: after each step this script prints `STEP <name>` and waits
for a `next` line on stdin, so the test can tell which recorded requests belong to which step.
Reads KILI_API_KEY and KILI_API_ENDPOINT from the environment.
"""

import os
import sys

from kili.client import Kili

from tutorial_data import CAR as URL, JSON_INTERFACE, RESPONSE  # noqa: E402


def step(name: str) -> None:
    """Tells the driver a step is over and waits for it to look at the server's records."""
    print(f"STEP {name}", flush=True)
    if sys.stdin.readline().strip() != "next":
        sys.exit("the driver went away")


kili = Kili(api_key=os.environ["KILI_API_KEY"], api_endpoint=os.environ["KILI_API_ENDPOINT"])
step("start")

project_id = kili.create_project(
    input_type="IMAGE", json_interface=JSON_INTERFACE, title="Webhook project"
)["id"]
step("create_project")

kili.append_many_to_dataset(
    project_id=project_id, content_array=[URL], external_id_array=["car_1"]
)
step("append_many_to_dataset")

asset_id = kili.assets(project_id=project_id, fields=["id"])[0]["id"]
step("assets")

kili.append_labels(
    json_response_array=[RESPONSE], asset_id_array=[asset_id], label_type="INFERENCE"
)
step("append_labels")

count = kili.count_labels(project_id=project_id)
assert count == 1, count
step("count_labels")

# Beyond the tutorial: the other reads and the clean-up.
labels = kili.labels(project_id=project_id, fields=["id", "jsonResponse", "labelType"])
assert len(labels) == 1, labels
step("labels")

assert kili.count_assets(project_id=project_id) == 1
step("count_assets")

projects = kili.projects(project_id=project_id, fields=["id", "title"])
assert len(projects) == 1, projects
step("projects")

kili.count_projects(project_id=project_id)
step("count_projects")

kili.delete_project(project_id)
step("delete_project")
