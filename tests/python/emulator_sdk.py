"""The official Kili Python SDK (unmodified) against the emulator: the everyday flows beyond the
webhooks tutorial, each checked by reading back what was written.

Usage: python tests/python/emulator_sdk.py ENDPOINT API_KEY [FORBIDDING_ENDPOINT FORBIDDING_KEY]

The optional second server runs with --no-upload-local-data: there the SDK must refuse to
upload local content (UploadFromLocalDataForbiddenError) and still import hosted URLs.

Runs the SDK's full start-up checks (KILI_SDK_SKIP_CHECKS is removed), with HOME pointed at a
fresh temporary directory so its schema cache starts empty. Covers: raw text in a TEXT project,
a local PNG in an IMAGE project and a local PDF in a PDF project (uploaded through signed URLs
and served back byte for byte), rich text and video frames as json_content, json_metadata,
predictions with their model name, update_properties_in_assets, delete_labels, the count_*
calls, the SDK's error paths, and the webhooks recipe (`recipes/webhooks_example.ipynb`): a
webhook registered, activated, listed, updated, deactivated and deleted, a label POSTed to a
receiver in this script, whose handler creates issues and sends the asset back to the queue.
Exits non-zero if any check fails.
"""

import json
import os
import queue
import struct
import sys
import tempfile
import threading
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Before importing kili: no skipped checks, an empty home (schema cache).
os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
os.environ["HOME"] = tempfile.mkdtemp(prefix="kili-sdk-home-")

from kili.client import Kili  # noqa: E402
from kili.exceptions import AuthenticationFailed, GraphQLError  # noqa: E402
from kili.services.asset_import.exceptions import (  # noqa: E402
    UploadFromLocalDataForbiddenError,
)

from tutorial_data import JSON_INTERFACE, RESPONSE  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def png(width, height, rgb):
    """A valid PNG of one colour, made with zlib alone."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fetch(kili, url):
    """Reads a URL as the SDK reads asset content: its HttpClient adds the key under the API."""
    response = kili.http_client.get(url, timeout=30)
    response.raise_for_status()
    return response


def main(endpoint, api_key):
    try:
        Kili(api_key="wrong-" + api_key, api_endpoint=endpoint)
        check(False, "a wrong key is refused at start-up")
    except AuthenticationFailed:
        check(True, "a wrong key is refused at start-up (AuthenticationFailed)")

    kili = Kili(api_key=api_key, api_endpoint=endpoint)
    check(True, "Kili() start-up checks passed")
    work = tempfile.mkdtemp(prefix="kili-sdk-files-")
    base = endpoint.replace("/graphql", "")

    # Raw text in a TEXT project, with metadata: uploaded, then served back.
    text_project = kili.create_project(
        input_type="TEXT", json_interface=JSON_INTERFACE, title="texts"
    )["id"]
    texts = ["Hello, émulateur!", "A second text\nwith two lines."]
    kili.append_many_to_dataset(
        project_id=text_project,
        content_array=texts,
        external_id_array=["t1", "t2"],
        json_metadata_array=[{"source": "ci", "n": 1}, {"source": "ci", "n": 2}],
    )
    assets = kili.assets(
        project_id=text_project, fields=["id", "externalId", "content", "jsonMetadata"]
    )
    by_ext = {a["externalId"]: a for a in assets}
    check(sorted(by_ext) == ["t1", "t2"], "the TEXT assets are listed")
    for ext, text in zip(["t1", "t2"], texts):
        url = by_ext[ext]["content"]
        check(url.startswith(base) and "&id=" in url, f"{ext}: content is a signed URL ({url})")
        served = fetch(kili, url)
        check(served.content.decode("utf-8") == text, f"{ext}: the text is served back")
        check(
            served.headers.get("content-type", "").startswith("text/plain"),
            f"{ext}: as text/plain",
        )
    check(by_ext["t2"]["jsonMetadata"] == {"source": "ci", "n": 2}, "json_metadata read back")
    check(
        kili.count_assets(project_id=text_project, external_id_strictly_in=["t1"]) == 1,
        "count_assets with a filter",
    )

    # Rich text (json_content) in a TEXT project.
    rich = [{"children": [{"text": "Rich", "bold": True}], "type": "p"}]
    kili.append_many_to_dataset(
        project_id=text_project, json_content_array=[rich], external_id_array=["rich"]
    )
    rich_asset = kili.assets(
        project_id=text_project, external_id_in=["rich"], fields=["id", "jsonContent"]
    )[0]
    check(
        json.loads(fetch(kili, rich_asset["jsonContent"]).content) == rich,
        "rich text json_content is uploaded and served back",
    )

    # A local PNG in an IMAGE project.
    image_project = kili.create_project(
        input_type="IMAGE", json_interface=JSON_INTERFACE, title="images"
    )["id"]
    png_bytes = png(3, 2, (200, 30, 10))
    png_path = os.path.join(work, "red.png")
    with open(png_path, "wb") as f:
        f.write(png_bytes)
    result = kili.append_many_to_dataset(
        project_id=image_project, content_array=[png_path], external_id_array=["red"]
    )
    check(len(result["asset_ids"]) == 1, "the PNG import returns its asset id")
    image = kili.assets(project_id=image_project, fields=["id", "content", "externalId"])[0]
    served = fetch(kili, image["content"])
    check(served.content == png_bytes, "the PNG is served back byte for byte")
    check(served.headers.get("content-type") == "image/png", "as image/png")

    # A local PDF in a PDF project.
    pdf_project = kili.create_project(
        input_type="PDF", json_interface=JSON_INTERFACE, title="pdfs"
    )["id"]
    pdf_path = os.path.join(work, "doc.pdf")
    with open(pdf_path, "wb") as f:
        f.write(PDF)
    kili.append_many_to_dataset(project_id=pdf_project, content_array=[pdf_path])
    pdf = kili.assets(project_id=pdf_project, fields=["id", "content"])[0]
    check(fetch(kili, pdf["content"]).content == PDF, "the PDF is served back byte for byte")

    # Video frames (local files) as json_content in a VIDEO project.
    video_project = kili.create_project(
        input_type="VIDEO", json_interface=JSON_INTERFACE, title="video"
    )["id"]
    frames = []
    for i, colour in enumerate([(0, 0, 255), (0, 255, 0)]):
        path = os.path.join(work, f"frame{i}.png")
        with open(path, "wb") as f:
            f.write(png(2, 2, colour))
        frames.append(path)
    kili.append_many_to_dataset(
        project_id=video_project, json_content_array=[frames], external_id_array=["clip"]
    )
    clip = kili.assets(project_id=video_project, fields=["id", "jsonContent", "jsonMetadata"])[0]
    index = json.loads(fetch(kili, clip["jsonContent"]).content)
    check(sorted(index) == ["0", "1"], f"the frame index lists both frames ({index})")
    for key, path in zip(["0", "1"], frames):
        with open(path, "rb") as f:
            check(fetch(kili, index.get(key, "")).content == f.read(), f"frame {key} is served back")

    # Predictions with their model name, listed by type.
    asset_ids = [a["id"] for a in kili.assets(project_id=image_project, fields=["id"])]
    kili.create_predictions(
        project_id=image_project,
        asset_id_array=asset_ids,
        json_response_array=[RESPONSE],
        model_name="model-v1",
    )
    predictions = kili.labels(
        project_id=image_project,
        type_in=["PREDICTION"],
        fields=["id", "modelName", "labelType", "jsonResponse"],
    )
    check(len(predictions) == 1, "one prediction is listed with type_in=['PREDICTION']")
    check(predictions[0]["modelName"] == "model-v1", "with its model name")
    check(predictions[0]["jsonResponse"] == RESPONSE, "and its json response")
    check(
        kili.count_labels(project_id=image_project, type_in=["PREDICTION"]) == 1,
        "count_labels with type_in",
    )
    kili.create_predictions(
        project_id=image_project,
        asset_id_array=asset_ids,
        json_response_array=[RESPONSE],
        model_name="model-v1",
        overwrite=True,
    )
    check(
        kili.count_labels(project_id=image_project, type_in=["PREDICTION"]) == 1,
        "overwrite replaces the prediction of the same model",
    )

    # update_properties_in_assets: priority, metadata and the other properties.
    kili.update_properties_in_assets(
        asset_ids=asset_ids,
        priorities=[7],
        json_metadatas=[{"reviewed": True}],
        is_honeypot_array=[True],
        consensus_marks=[0.25],
        resolution_array=[{"width": 3, "height": 2}],
    )
    updated = kili.assets(
        project_id=image_project,
        fields=["id", "priority", "jsonMetadata", "isHoneypot", "consensusMark", "resolution.width"],
    )[0]
    check(updated["priority"] == 7, "priority updated")
    check(updated["jsonMetadata"] == {"reviewed": True}, "metadata updated")
    check(updated["isHoneypot"] is True, "isHoneypot updated")
    check(updated["consensusMark"] == 0.25, "consensusMark updated")
    check(updated["resolution"]["width"] == 3, "resolution updated")

    # delete_labels, and its refusal for a DEFAULT label (the SDK's GraphQLError path).
    prediction_ids = [
        l["id"] for l in kili.labels(project_id=image_project, type_in=["PREDICTION"], fields=["id"])
    ]
    deleted = kili.delete_labels(ids=prediction_ids)
    check(deleted == prediction_ids, "delete_labels returns the deleted ids")
    check(
        kili.count_labels(project_id=image_project, type_in=["PREDICTION"]) == 0,
        "the predictions are gone",
    )
    default = kili.append_labels(
        json_response_array=[RESPONSE], asset_id_array=asset_ids, label_type="DEFAULT"
    )[0]["id"]
    try:
        kili.delete_labels(ids=[default])
        check(False, "deleting a DEFAULT label is refused")
    except GraphQLError as err:
        check("labelNotDeletable" in str(err), f"deleting a DEFAULT label is refused ({err})")

    # A filter the emulator does not model fails clearly instead of answering a default.
    try:
        kili.count_assets(project_id=image_project, inference_mark_gte=0.5)
        check(False, "an unsupported filter is refused")
    except GraphQLError as err:
        check("unsupportedFilter" in str(err), f"an unsupported filter is refused ({err})")
    check(kili.count_projects() == 4, "count_projects")
    webhooks(kili)


BBOX_INTERFACE = {
    "jobs": {
        "JOB_0": {
            "content": {
                "categories": {
                    "OBJECT_A": {"children": [], "name": "Object A"},
                    "OBJECT_B": {"children": [], "name": "Object B"},
                },
                "input": "radio",
            },
            "instruction": "Categories",
            "isChild": False,
            "tools": ["rectangle"],
            "mlTask": "OBJECT_DETECTION",
            "required": 1,
        }
    }
}


def box(mid, x0, y0, x1, y1):
    """A rectangle of OBJECT_A, as the recipe writes them."""
    vertices = [{"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]
    return {
        "boundingPoly": [{"normalizedVertices": vertices}],
        "categories": [{"name": "OBJECT_A"}],
        "children": {},
        "mid": mid,
        "type": "rectangle",
    }


THREE_BOXES = {
    "JOB_0": {
        "annotations": [
            box("20221124161451411-13314", 0.15, 0.31, 0.82, 0.84),
            box("20221124161456406-47055", 0.79, 0.13, 0.91, 0.20),
            box("20221124161459298-45160", 0.87, 0.27, 0.99, 0.36),
        ]
    }
}
# One small box: no issue (the recipe's "proper" label, one large box, breaks its own 0.33 rule).
ONE_BOX = {"JOB_0": {"annotations": [box("20221124161456406-47055", 0.79, 0.13, 0.91, 0.20)]}}


def receiver():
    """A webhook receiver on loopback: returns its URL and the queue of (Authorization, body)."""
    events = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            events.put((self.headers.get("Authorization"), json.loads(self.rfile.read(length))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", events


def area(bounding_box):
    """The recipe's `_get_area`."""
    xs = [p["x"] for p in bounding_box]
    ys = [p["y"] for p in bounding_box]
    return (max(xs) - min(xs)) * (max(ys) - min(ys))


def on_submit(kili, project_id, label, asset_id):
    """The recipe's handler: too many OBJECT_A boxes, boxes too large; issues, back to queue."""
    issues = []
    for key, count in label["search"]["numberOfAnnotationsByObject"].items():
        if key == "JOB_0.OBJECT_A" and count > 1:
            text = f"There are too many BBox ({count}) - Only 1 BBox of Object A accepted"
            issues.append({"text": text, "mid": None})
    # The recipe takes the asset's first label; Kili promises no order: take this label.
    json_response = next(
        l["jsonResponse"]
        for l in kili.labels(
            asset_id=asset_id, project_id=project_id, fields=["id", "jsonResponse"], disable_tqdm=True
        )
        if l["id"] == label["id"]
    )
    for annotation in json_response["JOB_0"]["annotations"]:
        if area(annotation["boundingPoly"][0]["normalizedVertices"]) > 0.33:
            issues.append({"text": "BBox too large", "mid": annotation["mid"]})
    for issue in issues:
        kili.create_issues(
            label_id_array=[label["id"]],
            project_id=project_id,
            text_array=[issue["text"]],
            object_mid_array=[issue["mid"]],
        )
    if issues:
        kili.send_back_to_queue(asset_ids=[asset_id])
    return issues


def webhooks(kili):
    """The webhooks recipe, against a receiver in this script."""
    url, events = receiver()
    project = kili.create_project(
        input_type="IMAGE", json_interface=BBOX_INTERFACE, title="Webhooks test project"
    )["id"]
    kili.append_many_to_dataset(
        project_id=project, content_array=["https://example.com/car_1.jpg"], external_id_array=["car"]
    )
    asset_id = kili.assets(project_id=project, fields=["id"], disable_tqdm=True)[0]["id"]
    name = "Webhook bbox count"
    created = kili.create_webhook(plugin_name=name, webhook_url=url, header="custom header")
    check("created" in created, f"create_webhook ({created})")
    activated = kili.activate_plugin_on_project(plugin_name=name, project_id=project)
    check("activated" in activated, f"activate_plugin_on_project ({activated})")
    kili.activate_plugin_on_project(plugin_name=name, project_id=project)
    check(True, "activating it again is not an error")
    listed = [p for p in kili.list_plugins() if p["name"] == name]
    check(len(listed) == 1 and listed[0]["projectIds"] == [project], f"list_plugins ({listed})")

    label_id = kili.append_labels(
        json_response_array=[THREE_BOXES], asset_id_array=[asset_id], label_type="DEFAULT"
    )[0]["id"]
    header, event = events.get(timeout=30)
    check(header == "custom header", "the registered header arrives as Authorization")
    check(event["eventType"] == "onSubmit", "eventType onSubmit")
    check(event["logPayload"]["projectId"] == project and event["logPayload"]["runId"], "logPayload")
    label = event["payload"]["label"]
    check(label["id"] == label_id and event["payload"]["asset_id"] == asset_id, "payload label and asset_id")
    issues = on_submit(kili, project, label, event["payload"]["asset_id"])
    check(len(issues) == 2, f"the handler finds two issues ({issues})")
    listed = kili.issues(project_id=project, fields=["comments.text", "objectMid"])
    texts = sorted(c["text"] for i in listed for c in i["comments"])
    check(texts == sorted(i["text"] for i in issues), f"issues lists them ({listed})")
    check(
        [i["objectMid"] for i in listed] == [None, "20221124161451411-13314"],
        "with their object mids",
    )
    check(kili.count_issues(project_id=project, asset_id=asset_id, status="OPEN") == 2, "count_issues")
    status = kili.assets(project_id=project, fields=["status"], disable_tqdm=True)[0]["status"]
    check(status == "ONGOING", f"the asset is back in the queue ({status})")
    logs = json.loads(kili.get_plugin_logs(project_id=project, plugin_name=name))
    check(len(logs) == 1 and logs[0]["logType"] == "INFO", f"get_plugin_logs ({logs})")

    kili.append_labels(json_response_array=[ONE_BOX], asset_id_array=[asset_id], label_type="DEFAULT")
    _, event = events.get(timeout=30)
    check(on_submit(kili, project, event["payload"]["label"], asset_id) == [], "a proper label")
    status = kili.assets(project_id=project, fields=["status"], disable_tqdm=True)[0]["status"]
    check(status == "LABELED", f"the asset is labeled ({status})")

    kili.update_webhook(new_webhook_url=url, plugin_name=name, new_header="new header")
    kili.append_labels(json_response_array=[ONE_BOX], asset_id_array=[asset_id], label_type="DEFAULT")
    header, _ = events.get(timeout=30)
    check(header == "new header", "update_webhook changes the header")
    kili.deactivate_plugin_on_project(plugin_name=name, project_id=project)
    check(kili.list_plugins(fields=["name", "projectIds"])[0]["projectIds"] == [], "deactivated")
    deleted = kili.delete_plugin(plugin_name=name)
    check("deleted" in deleted and kili.list_plugins() == [], f"delete_plugin ({deleted})")


def forbidden(endpoint, api_key):
    """Against a server whose license forbids local data."""
    kili = Kili(api_key=api_key, api_endpoint=endpoint)
    project = kili.create_project(input_type="TEXT", json_interface=JSON_INTERFACE, title="t")["id"]
    try:
        kili.append_many_to_dataset(project_id=project, content_array=["raw text"])
        check(False, "a license without uploadLocalData refuses raw text")
    except UploadFromLocalDataForbiddenError:
        check(True, "a license without uploadLocalData refuses raw text (the SDK's own error)")
    kili.append_many_to_dataset(project_id=project, content_array=["https://example.com/a.txt"])
    check(kili.count_assets(project_id=project) == 1, "hosted content is still imported")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1], sys.argv[2])
        if len(sys.argv) == 5:
            forbidden(sys.argv[3], sys.argv[4])
    except Exception:  # noqa: BLE001 - any exception is a failed check
        traceback.print_exc()
        failures.append("exception")
    print(f"{len(failures)} failure(s)", flush=True)
    os._exit(1 if failures else 0)
