"""Pathway engine: FEEL, DMN decisions, BPMN model loading and lint, clock, store and service.

This package never imports Flask; the HTTP layer lives in ``api/``.
"""
