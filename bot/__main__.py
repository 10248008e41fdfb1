"""`python -m policybot.bot` is the `policybot` command."""

from policybot.bot.cli import main

main()
