"""Loading Camunda-Modeler BPMN + DMN bundles onto SpiffWorkflow, and linting them."""

from .bundle import Bundle, load_bundle, load_bundle_from_paths

__all__ = ["Bundle", "load_bundle", "load_bundle_from_paths"]
