#!/usr/bin/env python3
"""Compiles every ```cpp block of README.md and docs/*.md, so that the documents' code stays true,
checks that their relative links point at files that exist, and that the per-thread caches of
docs/architecture.md list every thread_local of framework/ and plugins/.

A block compiles as written, at file scope after `#include <retort/retort.hpp>`, unless the
HTML comment on the line before its fence says otherwise:

  <!-- no-compile -->                     not compiled (keep these few: sketches of a plugin, ...)
  <!-- compile: prelude=models -->        included after preludes/models.hpp instead
  <!-- compile: prelude=models body -->   wrapped in `void snippet(retort::Engine engine) {{...}}`
  <!-- compile: prelude=models coroutine -->
                                          wrapped in `boost::asio::awaitable<void>
                                          snippet(retort::Engine engine) {{...}}`

Usage: compile-snippets.py <source root> <compiler command...> -- <compiler arguments...>
Prints each block's file:line and exits non-zero when one does not compile.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(\s*)```cpp\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*(no-compile|compile:([^>]*))\s*-->\s*$")


def blocks(path):
    """Yields (line number, directive or None, code) for each ```cpp block of `path`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        start = i + 1
        directive = None
        j = i - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        if j >= 0:
            d = DIRECTIVE.match(lines[j])
            if d:
                directive = d.group(1)
        i += 1
        code = []
        while i < len(lines) and lines[i].strip() != "```":
            code.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1
        yield start, directive, "\n".join(code) + "\n"


def source_of(directive, code, preludes):
    prelude = "retort"
    wrap = None
    if directive and directive.startswith("compile:"):
        for word in directive[len("compile:"):].split():
            if word.startswith("prelude="):
                prelude = word[len("prelude="):]
            elif word in ("body", "coroutine"):
                wrap = word
            else:
                raise SystemExit(f"unknown word '{word}' in <!-- {directive} -->")
    head = f'#include "{os.path.join(preludes, prelude + ".hpp")}"\n'
    if wrap == "body":
        # A nested block, so that the snippet may declare its own `engine`.
        return head + "[[maybe_unused]] void snippet(retort::Engine engine) {{\n" + code + "}}\n"
    if wrap == "coroutine":
        return (head + "[[maybe_unused]] boost::asio::awaitable<void> snippet(retort::Engine engine) {{\n"
                + code + "}\n  co_return;\n}\n")
    return head + code


def broken_links(path):
    """The relative link targets of `path` (outside code blocks) that do not exist."""
    broken = []
    in_code = False
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            file = target.split("#", 1)[0]
            if not os.path.exists(os.path.join(os.path.dirname(path), file)):
                broken.append(f"{path}:{number}: {target}")
    return broken


def unlisted_thread_locals(root):
    """thread_local declarations whose file the "Per-thread caches" table of architecture.md does
    not name, and a mismatch between their number and the table's rows."""
    doc = os.path.join(root, "docs", "architecture.md")
    if not os.path.exists(doc):
        return []
    text = open(doc, encoding="utf-8").read()
    section = text.split("## Per-thread caches", 1)[-1].split("\n## ", 1)[0]
    rows = [line for line in section.split("\n") if line.startswith("| ") and "`" in line]
    found = []
    for top in ("framework", "plugins"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                for number, line in enumerate(open(path, encoding="utf-8"), 1):
                    code = line.split("//", 1)[0]
                    if re.search(r"\bthread_local\b", code):
                        found.append((os.path.relpath(path, root), number))
    problems = []
    for path, number in found:
        short = path.split("/src/", 1)[-1]
        if f"`{short}" not in section:
            problems.append(f"{path}:{number}: a thread_local that docs/architecture.md "
                            "(Per-thread caches) does not list")
    if len(rows) != len(found):
        problems.append(f"docs/architecture.md lists {len(rows)} per-thread caches, the code "
                        f"declares {len(found)} thread_locals")
    return problems


def main():
    root = sys.argv[1]
    sep = sys.argv.index("--")
    compiler = sys.argv[2:sep]
    args = sys.argv[sep + 1:]
    preludes = os.path.abspath(os.path.join(root, "tests", "docs", "preludes"))
    docs = [os.path.join(root, "README.md")]
    docs_dir = os.path.join(root, "docs")
    if os.path.isdir(docs_dir):
        docs += sorted(os.path.join(docs_dir, f) for f in os.listdir(docs_dir) if f.endswith(".md"))
    compiled = skipped = 0
    failed = []
    for problem in unlisted_thread_locals(root):
        failed.append(problem)
        print(f"FAIL {problem}")
    for doc in docs:
        for link in broken_links(doc):
            failed.append(link)
            print(f"FAIL broken link {os.path.relpath(link, root)}")
    with tempfile.TemporaryDirectory(prefix="retort-snippets.") as work:
        jobs = []  # (where, path)
        for doc in docs:
            for line, directive, code in blocks(doc):
                where = f"{os.path.relpath(doc, root)}:{line}"
                if directive == "no-compile":
                    skipped += 1
                    print(f"skip {where}")
                    continue
                path = os.path.join(work, f"snippet{len(jobs)}.cpp")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(f"// {where}\n" + source_of(directive, code, preludes))
                jobs.append((where, path))

        def run(job):
            return subprocess.run(compiler + args + ["-fsyntax-only", job[1]],
                                  capture_output=True, text=True)

        # Two at a time: the machines this runs on have two cores to share.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for (where, _), result in zip(jobs, pool.map(run, jobs)):
                if result.returncode == 0 and not result.stderr.strip():
                    compiled += 1
                    print(f"ok   {where}")
                else:
                    failed.append(where)
                    print(f"FAIL {where}\n{result.stderr}")
    print(f"{compiled} snippets compiled, {len(failed)} failed, {skipped} marked no-compile")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed or compiled == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
