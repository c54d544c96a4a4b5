"""The webhooks tutorial's steps, run with the official Kili Python SDK.

Driven by tests/python_parity.rs: after each step this script prints `STEP <name>` and waits
for a `next` line on stdin, so the test can tell which recorded requests belong to which step.
Reads KILI_API_KEY and KILI_API_ENDPOINT from the environment.
"""

import os
import sys
import tempfile

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
