"""The counting of benchmarks/walks.py: layer hops, files per layer, and the profile hook
keeping only calls into the package folders (on the thread that records and on threads it
starts)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from types import ModuleType

from benchmarks.walks import Recorder, Walk, layer_hops


def test_hops_count_each_change_of_layer() -> None:
    assert layer_hops([]) == 0
    assert layer_hops(["bot", "bot"]) == 0
    assert layer_hops(["bot", "handlers", "data", "data", "handlers", "bot"]) == 4
    assert layer_hops(["data", "scheduler", "data", "scheduler"]) == 3


def test_a_walk_counts_distinct_files_and_hops_per_thread() -> None:
    walk = Walk(
        "w",
        [
            (1, "bot/edge.py"),
            (2, "data/store.py"),  # another thread, running at the same time
            (1, "handlers/commands.py"),
            (2, "data/db.py"),
            (1, "handlers/commands.py"),
            (2, "bot/posters.py"),
        ],
    )
    assert walk.files() == [
        "bot/edge.py",
        "bot/posters.py",
        "data/db.py",
        "data/store.py",
        "handlers/commands.py",
    ]
    assert walk.files_per_layer() == {"bot": 2, "handlers": 1, "scheduler": 0, "data": 2}
    assert walk.threads() == {
        1: ["bot/edge.py", "handlers/commands.py", "handlers/commands.py"],
        2: ["data/store.py", "data/db.py", "bot/posters.py"],
    }
    assert walk.hops() == 1 + 1  # each thread's sequence on its own
    assert walk.interleaved_hops() == 5  # every call in the order made


def _module(path: Path, source: str) -> ModuleType:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"walks_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recorder_keeps_calls_into_package_folders_only(tmp_path: Path) -> None:
    data = _module(tmp_path / "data" / "rows.py", "def rows():\n    return [1, 2]\n")
    bot = _module(
        tmp_path / "bot" / "edge.py",
        "def answer(rows):\n    return len(rows())\n",
    )
    outside = _module(tmp_path / "tests" / "helper.py", "def helper(f):\n    return f()\n")
    recorder = Recorder(tmp_path)
    recorder.install()
    try:
        bot.answer(data.rows)  # before recording: not kept
        with recorder.recording_walk("w") as walk:
            outside.helper(lambda: bot.answer(data.rows))
            thread = threading.Thread(target=bot.answer, args=(data.rows,))
            thread.start()
            thread.join()
    finally:
        recorder.uninstall()
    bot.answer(data.rows)  # after recording: not kept
    sequences = sorted(walk.threads().values())
    assert sequences == [["bot/edge.py", "data/rows.py"]] * 2
    assert walk.hops() == 2
