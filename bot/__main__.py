"""`python -m bot` is the `policybot` command."""

from bot.cli import main

main()
