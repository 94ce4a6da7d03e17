"""Dialogue stage: meetings and the IOP suitability assessment."""
