#!/usr/bin/env python3
"""Finds the loops of imports between the files of a Rust crate.

Usage: import_cycles.py SRC_DIR [SRC_DIR ...], each the `src` folder of one crate. An arrow
runs from a file to each file whose items it names through a path: `use crate::a::b::Item`,
`super::Item`, `self::child::Item`, or `crate::a::f()` inline. A name that a module file
re-exports (`pub use`, `pub(crate) use`) is followed to the file that defines it. `mod x;`
declarations and `#[cfg(test)]` modules are not arrows. Exits 1 if any loop (a strongly
connected set of two files or more, or a file importing itself through a re-export) exists.
Reads the code as text, so a macro's generated path can escape it.
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)(::\{)?")


def module_files(src):
    """{module path tuple: file} for every .rs file under src."""
    mods = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]):
                key = ()
            elif rel[-1] == "mod":
                key = tuple(rel[:-1])
            else:
                key = tuple(rel)
            if rel == ["main"] and () in mods:
                continue  # a binary beside the library: the library is the crate's root
            mods[key] = full
    return mods


def strip_tests(text):
    """The text without `#[cfg(test)] mod x { ... }` blocks and comments."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand_use(text, children=()):
    """Yields the full paths (`crate::a::b::Item`) that `use` trees name, then inline paths.
    A path that starts with the name of a child module (`use journal::Journal`, or
    `journal::open()`) is that child's (`self::journal::...`)."""
    heads = "crate|super|self" + "".join("|" + re.escape(c) for c in children)
    for m in re.finditer(r"\buse\s+((?:" + heads + r")::[^;]*);", text, re.S):
        for path in flatten(re.sub(r"\s+", "", m.group(1))):
            yield own(path, children)
    body = re.sub(r"\buse\s+[^;]*;", "", text)
    for m in PATH.finditer(body):
        yield m.group(1) + m.group(2)
    for child in children:
        for m in re.finditer(r"(?<![\w:])" + re.escape(child) + r"((?:::\w+)+)", body):
            yield "self::" + child + m.group(1)


def own(path, children):
    """`child::x` as `self::child::x`."""
    head = path.split("::")[0]
    return "self::" + path if head in children else path


def flatten(tree):
    """a::{b,c::{d,e}} -> a::b, a::c::d, a::c::e"""
    i = tree.find("{")
    if i < 0:
        yield re.sub(r"\bas\w+$", "", tree.split(" as ")[0])
        return
    prefix, inner = tree[:i], tree[i + 1:-1]
    depth, start, parts = 0, 0, []
    for j, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:j])
            start = j + 1
    parts.append(inner[start:])
    for p in parts:
        if p:
            yield from flatten(prefix + p)


def resolve(path, here, mods):
    """The module tuple and the rest of the path for a path used in module `here`."""
    segs = path.split("::")
    head, rest = segs[0], [s for s in segs[1:] if s]
    if head == "crate":
        base = ()
    elif head == "self":
        base = here
    else:
        base = here
        while rest and head == "super":
            base = base[:-1]
            head = "super" if rest[0] == "super" else None
            if head:
                rest = rest[1:]
        if head == "super":
            base = base[:-1]
    mod = base
    while rest and mod + (rest[0],) in mods:
        mod, rest = mod + (rest[0],), rest[1:]
    return mod, rest


def main():
    found = False
    for src in sys.argv[1:]:
        mods = module_files(src)
        texts = {k: strip_tests(open(f, encoding="utf-8").read()) for k, f in mods.items()}
        reexports = {}  # (module, name) -> path it re-exports
        for k, t in texts.items():
            for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]*);", t, re.S):
                tree = re.sub(r"\s+", "", m.group(1))
                for p in flatten(tree):
                    if " as " in m.group(1):
                        continue
                    name = p.split("::")[-1]
                    if not p.startswith(("crate", "super", "self")):
                        p = "self::" + p  # a child module's item
                    reexports[(k, name)] = p
        edges = {k: set() for k in mods}
        for k, t in texts.items():
            children = [c for c in re.findall(r"\bmod\s+(\w+)\s*;", t) if k + (c,) in mods]
            for p in expand_use(t, children):
                target, rest = resolve(p, k, mods)
                seen = set()
                while rest and (target, rest[0]) in reexports and (target, rest[0]) not in seen:
                    seen.add((target, rest[0]))
                    target, rest = resolve(reexports[(target, rest[0])], target, mods)
                if target != k and target in mods and not (target == () and not rest):
                    if target == k[: len(target)] and not rest:
                        continue  # a path to an enclosing module itself, not to its items
                    edges[k].add(target)
        for cycle in sccs(edges):
            found = True
            names = sorted(os.path.relpath(mods[c]) for c in cycle)
            print(f"import loop ({len(cycle)} files): " + ", ".join(names))
            for a in sorted(cycle):
                for b in sorted(edges[a] & set(cycle)):
                    print(f"  {os.path.relpath(mods[a])} -> {os.path.relpath(mods[b])}")
    return 1 if found else 0


def sccs(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
