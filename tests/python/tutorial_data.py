"""The webhooks tutorial's data, shared by the Python scripts that drive the official SDK."""

CAR = "https://storage.googleapis.com/label-public-staging/car/car_1.jpg"
JSON_INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "CLASSIFICATION",
            "required": 1,
            "content": {
                "categories": {
                    "OBJECT_A": {"name": "Object A", "children": []},
                    "OBJECT_B": {"name": "Object B", "children": []},
                },
                "input": "radio",
            },
        }
    }
}
RESPONSE = {"JOB_0": {"categories": [{"name": "OBJECT_A"}]}}
