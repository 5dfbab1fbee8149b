"""The one exception hierarchy of geotarget.

Every error the library raises on purpose derives from :class:`GeotargetError`, so a
caller (or the CLI) can catch them all in one place and show a one-line message.
"""

from __future__ import annotations


class GeotargetError(Exception):
    """Base class for all errors raised by geotarget.

    A message that names Python parameters records them in :attr:`parameter` (the one at fault,
    when the message starts with it) and :attr:`related` (others it names, marked with backquotes
    in the message: ``"name it with `layer`"``), so a front end can call them by its own names
    (:meth:`renamed`: the CLI's ``--flags``).
    """

    parameter: str | None = None
    related: tuple[str, ...] = ()

    def naming(self, *related: str) -> GeotargetError:
        """Record the parameters the message names and return the error (``raise SchemaError(...).naming("x")``)."""
        self.related = tuple(related)
        return self

    def renamed(self, names: dict[str, str]) -> str:
        """Return the message with the parameters called by ``names`` (e.g. ``{"max_decile": "--max-decile"}``)."""
        import re

        text = str(self)
        for lead in (self.parameter, f"`{self.parameter}`"):
            if self.parameter in names and text.startswith(lead):
                text = names[self.parameter] + text[len(lead):]
        for other in self.related:
            if other in names and f"`{other}`" in text:  # marked: only the marked names, not the same word in prose
                text = text.replace(f"`{other}`", names[other])
            elif other in names:
                text = re.sub(rf"(?<![\w-]){re.escape(other)}\b", names[other], text)
        return text


class SchemaError(GeotargetError, ValueError):
    """An input file or frame does not have the columns, codes or values expected.

    Messages name the file, column, row and value and say what was expected.
    """


class VintageError(GeotargetError, ValueError):
    """Data of one IoD / LSOA vintage was combined with data of another."""


class CRSError(GeotargetError, ValueError):
    """A coordinate reference system is missing or does not match."""


class DataNotFoundError(GeotargetError, FileNotFoundError):
    """A file or bundled data set could not be found."""


class AreaNotFoundError(GeotargetError, LookupError):
    """A named area (council, ward, ...) is not in the data."""


class ConfigError(GeotargetError, ValueError):
    """A study file (TOML) has an unknown key, a bad value or a missing file.

    Messages name the file, the line, the ``[section]`` and key, and what was expected.
    """


class FetchError(GeotargetError, OSError):
    """Official data could not be downloaded (offline, server error, checksum mismatch)."""


class ParameterError(ConfigError):
    """A job parameter has a value out of its choices or bounds.

    The message names the Python parameter (``"max_decile was 11 but is expected to be an integer
    from 1 to 10"``), held in :attr:`parameter`, so the CLI can name its flag and a study file its key.
    """

    def __init__(self, message: str, *, parameter: str | None = None, related: tuple[str, ...] = ()):
        super().__init__(message)
        self.parameter = parameter
        self.related = related  #: other parameters the message names (a rule between parameters)
