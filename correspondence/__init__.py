"""correspondence: a localized document factory for a trade credit insurer.

Data flows one way: request payload -> validated kind model (rules computed) ->
HTML (Jinja) -> PDF (WeasyPrint) -> pack (pypdf) -> registry + archive -> delivery.
"""

__version__ = "0.1.0"
