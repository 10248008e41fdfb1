"""`python -m policybot.bot` is the `policybot` command."""

from .cli import main

main()
