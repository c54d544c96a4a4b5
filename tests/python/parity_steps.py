"""The webhooks tutorial's steps, run with the official Kili Python SDK.

Driven by tests/python_parity.rs: after each step this script prints `STEP <name>` and waits
for a `next` line on stdin, so the test can tell which recorded requests belong to which step.
Reads KILI_API_KEY and KILI_API_ENDPOINT from the environment.
"""

import os
import sys
import tempfile
from datetime import datetime

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
    project_id=project_id,
    json_response_array=[RESPONSE],
    asset_id_array=[asset_id],
    label_type="INFERENCE",
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

# Beyond the tutorial: imports that upload (raw text, a local file, a JSON content), predictions,
# asset properties and label deletion.
text_project = kili.create_project(
    input_type="TEXT", json_interface=JSON_INTERFACE, title="Text project"
)["id"]
step("create_text_project")

kili.append_many_to_dataset(
    project_id=text_project, content_array=["A text to label"], external_id_array=["text_1"]
)
step("append_text")

pdf_project = kili.create_project(
    input_type="PDF", json_interface=JSON_INTERFACE, title="PDF project"
)["id"]
step("create_pdf_project")

pdf_path = os.path.join(tempfile.mkdtemp(prefix="kili-parity-"), "doc.pdf")
with open(pdf_path, "wb") as f:
    f.write(b"%PDF-1.4 parity")
kili.append_many_to_dataset(project_id=pdf_project, content_array=[pdf_path])
step("append_local_file")

kili.append_many_to_dataset(
    project_id=text_project,
    json_content_array=[[{"type": "p", "children": [{"text": "Rich"}]}]],
)
step("append_json_content")

text_asset = kili.assets(
    project_id=text_project, external_id_strictly_in=["text_1"], fields=["id"]
)[0]["id"]
step("find_text_asset")

kili.create_predictions(
    project_id=text_project,
    asset_id_array=[text_asset],
    json_response_array=[RESPONSE],
    model_name="model-v1",
)
step("create_predictions")

kili.update_properties_in_assets(asset_ids=[text_asset], json_metadatas=[{"reviewed": True}])
step("update_properties_in_assets")

prediction = kili.labels(project_id=text_project, type_in=["PREDICTION"], fields=["id"])[0]["id"]
step("find_prediction")

kili.delete_labels(ids=[prediction])
step("delete_labels")

# Webhooks (plugins), issues, asset statuses and actions, label search: the webhooks recipe's
# calls, on the text project. Nothing listens at the URL: no run waits for a delivery.
HOOK_URL = "http://127.0.0.1:9/kili-events"
kili.create_webhook(
    webhook_url=HOOK_URL,
    plugin_name="parity-hook",
    header="Bearer parity",
    handler_types=["onSubmit", "onReview"],
)
step("create_webhook")

kili.activate_plugin_on_project(plugin_name="parity-hook", project_id=text_project)
step("activate_plugin_on_project")

plugins = kili.list_plugins()
assert plugins[0]["projectIds"] == [text_project], plugins
step("list_plugins")

kili.update_webhook(
    new_webhook_url=HOOK_URL,
    plugin_name="parity-hook",
    new_header="Bearer new",
    handler_types=["onSubmit"],
)
step("update_webhook")

label = kili.append_labels(
    project_id=text_project, json_response_array=[RESPONSE], asset_id_array=[text_asset]
)[0]["id"]
step("append_default_label")

kili.get_plugin_logs(
    project_id=text_project, plugin_name="parity-hook", start_date=datetime(2020, 1, 1), limit=10
)
step("get_plugin_logs")

issues = kili.create_issues(
    project_id=text_project, label_id_array=[label], text_array=["Wrong class"]
)
assert len(issues) == 1, issues
step("create_issues")

listed = kili.issues(
    project_id=text_project,
    asset_id_in=[text_asset],
    status="OPEN",
    issue_type="ISSUE",
    fields=["id", "status", "type", "assetId"],
)
assert len(listed) == 1, listed
step("issues")

count = kili.count_issues(
    project_id=text_project, asset_id_in=[text_asset], status="OPEN", issue_type="ISSUE"
)
assert count == 1, count
step("count_issues")

outcome = kili.send_back_to_queue(asset_ids=[text_asset])
assert [a["assetId"] for a in outcome["succeeded"]] == [text_asset], outcome
step("send_back_to_queue")

status = kili.assets(
    project_id=text_project, external_id_strictly_in=["text_1"], fields=["id", "status"]
)[0]["status"]
assert status == "ONGOING", status
step("find_asset_status")

searched = kili.labels(project_id=text_project, fields=["id", "search"])
assert any(l.get("search") for l in searched), searched
step("labels_search")

kili.deactivate_plugin_on_project(plugin_name="parity-hook", project_id=text_project)
step("deactivate_plugin_on_project")

kili.delete_plugin(plugin_name="parity-hook")
step("delete_plugin")
