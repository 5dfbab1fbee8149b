"""geotarget.data: the one front door for data (:func:`load` -> :class:`StudyData`)."""

from geotarget.data.load import load
from geotarget.data.source import DataSource
from geotarget.data.study_data import Source, StudyData

__all__ = ["DataSource", "Source", "StudyData", "load"]
