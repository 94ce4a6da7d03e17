"""Idéburna organisations and their contact persons."""
