"""The narrative taxonomy: the only place label ids, kinds and guidance come from."""

from narrascope.labels.taxonomy import KINDS, Label, Taxonomy, TaxonomyError, load_taxonomy

__all__ = ["KINDS", "Label", "Taxonomy", "TaxonomyError", "load_taxonomy"]
