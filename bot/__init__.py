"""The edge: settings, Bolt app, listeners, console, HTTP server, command line."""
