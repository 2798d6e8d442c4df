"""narrascope: narrative detection for news about Kazakhstan's Territorial Defense law."""

__version__ = "0.1.0"
