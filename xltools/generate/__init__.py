"""Generate locked template workbooks from specs."""

from .layout import Layout, layout_spec
from .writer import generate_template

__all__ = ["Layout", "generate_template", "layout_spec"]
