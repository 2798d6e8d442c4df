"""Batch scoring of feeds, archives and folders (``narrascope score``), locally or on Ray; see README.md."""
