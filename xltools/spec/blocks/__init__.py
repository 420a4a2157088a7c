"""Building a spec's layout blocks, one module per kind (fields, table, list, indicators, note),
each a mixin of the builder in :mod:`xltools.spec.build`."""
