"""Compiled contract artifacts shipped as package data (see contracts/tools/export_artifacts.py)."""
