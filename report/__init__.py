"""From scored feeds to findings: narrative prevalence reports and cross-lingual story clusters."""
