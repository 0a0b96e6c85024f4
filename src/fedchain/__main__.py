"""`python -m fedchain` runs the command line."""

from fedchain.cli import app

app()
