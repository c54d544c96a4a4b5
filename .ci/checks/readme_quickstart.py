#!/usr/bin/env python3
"""Checks that the README's first code block is examples/quickstart.rs, as it is."""
import re
import sys

readme = open("README.md", encoding="utf-8").read()
first = re.search(r"```[a-z]*\n(.*?)```", readme, re.S)
example = open("examples/quickstart.rs", encoding="utf-8").read()
if not first or first.group(1) != example:
    print("README.md's first code block is not examples/quickstart.rs as it stands")
    sys.exit(1)
