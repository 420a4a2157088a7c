"""Bad returned workbooks, generated (never stored as binaries): see make_corpus.py."""
