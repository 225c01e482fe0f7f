"""Rendering beneath the analyses: one autoescaping Jinja environment, one page shell, PDF.

Reports carry values a user or an adversary controls (case identifiers, ad text
scraped from the web, exhibit names, law titles). Escaping them one value at a
time, in f-strings, is a promise that one forgotten call breaks; here every
page is a template rendered with autoescaping on and undefined names refused,
so a value is escaped unless a template marks it safe on purpose (charts that
tipsom itself drew as SVG).

A module keeps its templates in its own ``templates/`` folder and names its
package when it renders (:func:`render`); its templates extend
``core/base.html``, which brings the common head, the one stylesheet (inlined,
so a report is one offline file), print rules and the ``lang``/``dir``
attributes. ``core`` does not import the modules it renders for.
"""

from tipsom.core.render.environment import direction, drawn, environment, number, render, timestamp
from tipsom.core.render.pdf import html_to_pdf, write_page

# ``charts`` (SVG charts every analysis draws) and ``pdf`` are public modules: import from them directly.
__all__ = ["charts", "direction", "drawn", "environment", "html_to_pdf", "number", "pdf", "render", "timestamp",
           "write_page"]
