"""`make bench`: run every registered bench, then write the Markdown tables they produce into BENCHMARKS.md.

    .venv/bin/python bench/suite.py                 # every bench at full size; updates BENCHMARKS.md
    .venv/bin/python bench/suite.py --quick         # every bench's quick variant (make bench-quick); BENCHMARKS.md
                                                    # is left alone (quick figures are not the documented ones)
    .venv/bin/python bench/suite.py --only rounds   # some benches (comma-separated names)

A bench is registered in BENCHES below: its name, its script, the arguments of its full and quick runs, and the
title of its section in BENCHMARKS.md. A registered bench whose script does not exist yet is skipped with a note.
Each bench is run as its own process, one at a time, from the repository's root.

What a bench hands back (the convention a new bench follows): it writes ``bench/results/<name>.json`` (quick:
``<name>.quick.json``) with every figure, the command, ``os.cpu_count()`` and the machine, and beside it the
Markdown fragment ``<name>.md`` (quick: ``<name>.quick.md``): its tables, each saying the command it came from and
the machine's cores. A bench that writes no fragment (bench_merkle.py only prints) is still welcome: the suite
takes the Markdown table rows of its standard output as the fragment, puts the command, cores and date above
them, and writes both files itself.

In BENCHMARKS.md a fragment replaces whatever lies between ``<!-- bench:<name> -->`` and ``<!-- /bench:<name> -->``;
the prose around the markers is the authors' and is never touched. A bench without markers yet gets a new
section with its title at the end of the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "BENCHMARKS.md"


@dataclass(frozen=True)
class Bench:
    """A registered bench: its script (from the repository's root), the arguments of its full and quick runs, and
    its section's title in BENCHMARKS.md."""

    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    title: str

    def arguments(self, quick: bool) -> tuple[str, ...]:
        """The arguments of one run."""
        return self.quick if quick else self.full


BENCHES: dict[str, Bench] = {
    "rounds": Bench("bench/bench_rounds.py", (), ("--quick",),
                    "Rounds (CPU and wall per round, against an in-process loop and Flower)"),
    "merkle": Bench("bench/bench_merkle.py", (), ("--quick",), "Merkle commitments (off chain)"),
    "scale": Bench("bench/bench_scale.py", (), ("--quick",),
                   "Scale (10, 100 and 1000 registered participants: time and memory per round)"),
    "gas": Bench("bench/bench_round_gas.py", ("8", "32", "64"), ("8",),
                 "Gas per participant per round, plain (receipts of real transactions)"),
    "secure_gas": Bench("bench/bench_secure_round_gas.py", ("8", "32", "64"), ("8",),
                        "Gas per participant per round, secure (receipts of real transactions)"),
    "zk": Bench("bench/bench_zk.py", (), ("--quick",), "Zero-knowledge proofs of training"),
    "scores": Bench("bench/bench_scores.py", (), ("--quick",),
                    "Contribution scores: two honest validators on honest updates"),
}
"""Every bench ``make bench`` runs, in this order. Add one here (and, if it should sit somewhere particular, its
markers in BENCHMARKS.md)."""


def command_line(bench: Bench, quick: bool) -> str:
    """The command as BENCHMARKS.md shows it."""
    return " ".join([".venv/bin/python", bench.script, *map(shlex.quote, bench.arguments(quick))])


def result(name: str, quick: bool, suffix: str) -> Path:
    """``bench/results/<name><suffix>``, or ``<name>.quick<suffix>``."""
    return RESULTS / (f"{name}.quick{suffix}" if quick else f"{name}{suffix}")


def table_rows(text: str) -> str:
    """The Markdown table rows of a bench's output, with a blank line between separate tables."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|") and line.rstrip().endswith("|"):
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return "\n\n".join("\n".join(block) for block in blocks if block)


def run(name: str, bench: Bench, quick: bool, timeout: float | None) -> str | None:
    """Run one bench; its Markdown fragment, or None (skipped or failed, with a printed note)."""
    script = ROOT / bench.script
    if not script.exists():
        print(f"[{name}] skipped: {bench.script} does not exist yet", flush=True)
        return None
    command = command_line(bench, quick)
    fragment, data = result(name, quick, ".md"), result(name, quick, ".json")
    started, started_wall = time.time(), time.perf_counter()
    print(f"[{name}] {command}", flush=True)
    try:
        process = subprocess.run([sys.executable, str(script), *bench.arguments(quick)], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"[{name}] failed: not finished within {timeout:.0f} s", flush=True)
        return None
    seconds = time.perf_counter() - started_wall
    if process.returncode != 0:
        print(process.stdout[-3000:])
        print(f"[{name}] failed: exit code {process.returncode} after {seconds:.0f} s", flush=True)
        return None
    if fragment.exists() and fragment.stat().st_mtime >= started:
        text = fragment.read_text()
    else:
        rows = table_rows(process.stdout)
        if not rows:
            print(process.stdout[-3000:])
            print(f"[{name}] failed: it wrote no {fragment.relative_to(ROOT)} and printed no Markdown table",
                  flush=True)
            return None
        date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        text = f"`{command}` — {os.cpu_count()} cores, {date}.\n\n{rows}\n"
        RESULTS.mkdir(parents=True, exist_ok=True)
        fragment.write_text(text)
        data.write_text(json.dumps({"bench": name, "command": command, "cores": os.cpu_count(), "date": date,
                                    "seconds": seconds, "stdout": process.stdout}, indent=1) + "\n")
    print(f"[{name}] done in {seconds:.0f} s", flush=True)
    return text


def splice(document: str, name: str, title: str, fragment: str) -> str:
    """``document`` with ``fragment`` between bench ``name``'s markers (a new section at the end if none)."""
    opening, closing = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = f"{opening}\n{fragment.strip()}\n{closing}"
    pattern = re.compile(re.escape(opening) + r".*?" + re.escape(closing), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: body, document, count=1)
    return document.rstrip("\n") + f"\n\n## {title}\n\n{body}\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benches; splice their fragments into BENCHMARKS.md (full runs); exit 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="each bench's quick variant; BENCHMARKS.md untouched")
    parser.add_argument("--only", help=f"comma-separated names, of {', '.join(BENCHES)}")
    parser.add_argument("--no-doc", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--timeout", type=float, help="seconds per bench (default: none)")
    arguments = parser.parse_args(argv)
    names = arguments.only.split(",") if arguments.only else list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}: choose from {', '.join(BENCHES)}")
    fragments: dict[str, str] = {}
    failed = []
    for name in names:
        bench = BENCHES[name]
        fragment = run(name, bench, arguments.quick, arguments.timeout)
        if fragment is not None:
            fragments[name] = fragment
            print(fragment)
        elif (ROOT / bench.script).exists():
            failed.append(name)
    if fragments and not arguments.quick and not arguments.no_doc:
        document = DOC.read_text()
        for name, fragment in fragments.items():
            document = splice(document, name, BENCHES[name].title, fragment)
        DOC.write_text(document)
        print(f"BENCHMARKS.md: wrote {', '.join(fragments)}")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
