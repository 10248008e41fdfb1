"""Packages are found, not listed: every folder under the four layer folders (bot/, handlers/,
scheduler/, data/) installs as `policybot.<folder>...` (pyproject.toml maps `policybot` to
this folder), data folders such as data/migrations/ too (as namespace packages, so their
files are package data). tests/ and benchmarks/ are not installed."""

from setuptools import find_namespace_packages, setup

LAYERS = ("bot", "handlers", "scheduler", "data")

setup(
    packages=[
        f"policybot.{name}"
        for name in find_namespace_packages(
            include=[*LAYERS, *(f"{layer}.*" for layer in LAYERS)], exclude=["*__pycache__"]
        )
    ]
)
