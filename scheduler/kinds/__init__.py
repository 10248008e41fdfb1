"""Delivery kinds, one module each; `scheduler.registry` lists them."""
