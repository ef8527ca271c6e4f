"""Sensors: the landing folder starts the nightly build when a complete delivery arrives."""
