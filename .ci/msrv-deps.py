"""Reads `cargo metadata` on stdin and fails if a crate that a workspace member builds with
(normal and build dependencies, every feature and platform the metadata lists) declares a
`rust-version` newer than the member's. Used by .ci/steps/msrv.sh."""

import json
import sys


def version(text):
    return tuple(int(x) for x in (text.split(".") + ["0", "0"])[:3])


meta = json.load(sys.stdin)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
bad = []
for member in meta["workspace_members"]:
    root = packages[member]
    msrv = root["rust_version"]
    seen, todo = set(), [member]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for dep in nodes[node]["deps"]:
            if any(kind["kind"] in (None, "build") for kind in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    too_new = [
        packages[n] for n in seen - {member}
        if packages[n].get("rust_version")
        and version(packages[n]["rust_version"]) > version(msrv)
    ]
    for p in too_new:
        bad.append(f"{root['name']} (Rust {msrv}): {p['name']} {p['version']} needs Rust {p['rust_version']}")
    if not too_new:
        print(f"{root['name']}: none of its {len(seen) - 1} dependencies needs more than Rust {msrv}")
if bad:
    print("\n".join(sorted(bad)))
    sys.exit(1)
