"""Every Slack surface's listeners, one module per kind (as Slack's bolt-python template lays
out `listeners/<kind>/`): commands, actions, views, events, shortcuts. Each module has one
`register(app, deps)`; bot/app.py calls the five. A listener acks, builds the Context, runs
one handler or opener and sends what the surface modules render (bot/blocks.py,
bot/modals.py, bot/add_brief.py, bot/note_form.py, bot/home.py, bot/intake.py); no Block
Kit is built here. See docs/ARCHITECTURE.md, "Slack surfaces"."""
