"""xltools: spec-driven templates, checking and merging for 绩效自评表 workbooks."""

__version__ = "0.1.0"
