"""How well pasted primary documents are read through `add`: the share of targets that come
out with the right deadline (each step of a plan its own goal), dated non-targets taken as
targets, documents titled by their own name and with all their issuing bodies.

Generated Chinese notices, news pages and English notices (tests/data/primary_corpus.py).
The baseline is the same `add` path (handlers.add_brief.form_from_text) of the code this
work started from (--baseline, a git revision), run in the same invocation from a copy of
that revision in a temporary directory.

    .venv/bin/python -m benchmarks.primary_documents [--count 300] [--baseline a2c1a97]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from policybot.handlers.add_brief import form_from_text, goal_lines, parse_deadline, published
from tests.data.primary_corpus import Goal, PrimaryDocument, Score, corpus, score

BASELINE = "a2c1a97"  # the commit before primary documents were read (issue 24, part 3)
ROOT = Path(__file__).resolve().parent.parent

# Run in the baseline's copy: the `add` form for each text, as JSON.
_CHILD = """
import json, sys
from policybot.handlers.add_brief import form_from_text
out = []
for text in json.load(sys.stdin):
    form = form_from_text(text)
    out.append([form.title, form.bodies, form.published_on, form.goals, form.deadlines])
json.dump(out, sys.stdout)
"""

Form = tuple[str, list[str], str, str, list[str | None]]


def _goals(published_on: str, goals: str, deadlines: list[str | None]) -> list[Goal]:
    on = date.fromisoformat(published_on) if published_on else None
    found: list[Goal] = []
    for index, line in enumerate(goal_lines(goals)):
        written = deadlines[index] if index < len(deadlines) else None
        try:
            deadline = parse_deadline(written or "", on)
        except ValueError:
            deadline = None
        found.append(
            (
                line,
                deadline.due_on if deadline else None,
                deadline.window_start if deadline else None,
            )
        )
    return found


def _score(documents: list[PrimaryDocument], forms: list[Form]) -> Score:
    total = Score()
    for document, (title, bodies, published_on, goals, deadlines) in zip(
        documents, forms, strict=True
    ):
        total.add(score(document, title, bodies, _goals(published_on, goals, deadlines)))
    return total


def current_forms(documents: list[PrimaryDocument]) -> list[Form]:
    forms: list[Form] = []
    for document in documents:
        form = form_from_text(document.text)
        on = published(form)
        forms.append(
            (form.title, form.bodies, on.isoformat() if on else "", form.goals, form.deadlines)
        )
    return forms


def baseline_forms(documents: list[PrimaryDocument], revision: str) -> list[Form]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        namespace = Path(tmp) / ".namespace"
        namespace.mkdir(exist_ok=True)
        link = namespace / "policybot"
        if not link.exists():
            link.symlink_to("..")
        child = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps([d.text for d in documents]),
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
            env={"PYTHONPATH": str(namespace), "PATH": "/usr/bin:/bin"},
        )
    return [(t, b, p, g, d) for t, b, p, g, d in json.loads(child.stdout)]


def _line(name: str, total: Score) -> str:
    def share(part: int, whole: int) -> str:
        return f"{100 * part / whole:5.1f}%" if whole else "  n/a"

    return (
        f"{name:<10} targets right {share(total.right, total.targets)} ({total.right}/"
        f"{total.targets})  false targets {total.false_targets:4d}  titles "
        f"{share(total.titles, total.documents)}  bodies {share(total.bodies, total.documents)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    documents = corpus(args.count)
    print(f"{len(documents)} generated documents ({len({d.family for d in documents})} families)")
    print(_line("baseline", _score(documents, baseline_forms(documents, args.baseline))))
    print(_line("now", _score(documents, current_forms(documents))))


if __name__ == "__main__":
    main()
